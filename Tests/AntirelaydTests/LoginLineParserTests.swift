import Foundation
import Testing
import Antirelayd
import TailWatchEngine
import TestSupport

/// Which maillog lines are successful logins, and from where: the security boundary of the relay.
@Suite struct LoginLineParserTests {
    /// 30 Nov 2026 12:00 UTC.
    static let now = Date(timeIntervalSince1970: 1_796_040_000)

    struct Found: Equatable {
        var ip: String
        var user: String
        var proto: MailLoginProtocol
        var time: Int64
    }

    static func parse(_ text: String, now: Date = now) -> LoginLine {
        var parser = LoginLineParser(zone: TimeZone(identifier: "UTC")!, now: { now })
        return withByteLine(text) { line in
            // Copy out what borrows the line before it goes.
            switch parser.parse(line) {
            case .login(let l): return .login(l)
            case let other: return other
            }
        }
    }

    static func login(_ text: String, now: Date = now) -> Found? {
        var parser = LoginLineParser(zone: TimeZone(identifier: "UTC")!, now: { now })
        return withByteLine(text) { line in
            guard case .login(let l) = parser.parse(line) else { return nil }
            return Found(ip: l.ip.text, user: l.user.string, proto: l.protocol, time: l.time)
        }
    }

    static func isLogin(_ text: String) -> Bool {
        if case .login = parse(text) { return true }
        return false
    }

    @Test func dovecotTwoXLogins() {
        let imap = Self.login("Nov 30 11:59:00 mail dovecot: imap-login: Login: user=<bob@bobsbikes.example>, method=PLAIN, rip=203.0.113.7, lip=198.51.100.1, mpid=4242, TLS, session=<q454Xu/vMwBZApgg>")
        #expect(imap == Found(ip: "203.0.113.7", user: "bob@bobsbikes.example", proto: .imap, time: 1_796_039_940))
        let pop = Self.login("Nov 30 11:59:00 mail dovecot[991]: pop3-login: Login: user=<carol>, method=PLAIN, rip=::ffff:198.51.100.23, lip=::ffff:198.51.100.1, mpid=77, secured, session=<abc>")
        #expect(pop == Found(ip: "198.51.100.23", user: "carol", proto: .pop3, time: 1_796_039_940))
        let v6 = Self.login("Nov 30 11:59:00 mail dovecot: imap-login: Login: user=<dave>, method=PLAIN, rip=2001:DB8:0:0::7, lip=2001:db8::1, mpid=1, TLS")
        #expect(v6?.ip == "2001:db8::7")
        // rsyslog's high-precision timestamps.
        let precise = Self.login("2026-11-30T12:59:00.123456+01:00 mail dovecot[991]: imap-login: Login: user=<erin>, method=PLAIN, rip=192.0.2.9, lip=192.0.2.1")
        #expect(precise == Found(ip: "192.0.2.9", user: "erin", proto: .imap, time: 1_796_039_940))
    }

    @Test func dovecotOneXLogins() {
        #expect(Self.login("Apr  1 10:00:02 raptor dovecot: imap-login: Login: user=<admin>, PID=12151, method=PLAIN, rip=192.168.0.1, lip=10.0.0.1")?.ip == "192.168.0.1")
        #expect(Self.login("Apr  1 10:00:02 raptor dovecot: pop3-login: Login: user=<dino>, PID=12140, method=PLAIN, rip=192.168.190.12, lip=192.168.190.13, TLS")
                == Found(ip: "192.168.190.12", user: "dino", proto: .pop3, time: 1_775_037_602))
    }

    @Test(arguments: ["imapd", "imapd-ssl", "pop3d", "pop3d-ssl", "courierpop3login"])
    func courierLogins(_ program: String) {
        let found = Self.login("Nov 30 11:00:00 mail \(program): LOGIN, user=bob@bobsbikes.example, ip=[::ffff:203.0.113.44], port=[51334], protocol=\(program.hasPrefix("imap") ? "IMAP" : "POP3")")
        #expect(found == Found(ip: "203.0.113.44", user: "bob@bobsbikes.example", proto: program.hasPrefix("imap") ? .imap : .pop3, time: 1_796_036_400))
        #expect(Self.login("Nov 30 11:00:00 mail \(program)[321]: LOGIN, user=x, ip=[2001:db8::9]")?.ip == "2001:db8::9")
    }

    /// Every kind of failure, abort and disconnect: never a login, whatever else is on the line.
    @Test(arguments: [
        "Nov 30 11:00:00 mail dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<bob>, method=PLAIN, rip=203.0.113.9, lip=198.51.100.1, TLS",
        "Nov 30 11:00:00 mail dovecot: imap-login: Aborted login (auth failed, 1 attempts): user=<bob>, method=PLAIN, rip=203.0.113.9, lip=198.51.100.1",
        "Nov 30 11:00:00 mail dovecot: pop3-login: Disconnected: Inactivity (no auth attempts): rip=203.0.113.9, lip=198.51.100.1",
        "Nov 30 11:00:00 mail dovecot: imap-login: Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10): user=<bob>, method=PLAIN, rip=203.0.113.9, lip=198.51.100.1",
        "Nov 30 11:00:00 mail dovecot: imap-login: Login aborted: Connection closed (auth failed, 3 attempts in 16 secs) (auth_failed): user=<bob>, method=PLAIN, rip=203.0.113.9, lip=198.51.100.1",
        "Nov 30 11:00:00 mail dovecot: auth: passwd-file(bob,203.0.113.9): unknown user",
        "Nov 30 11:00:00 mail dovecot: auth-worker(12): sql(bob@bobsbikes.example,203.0.113.9): Password mismatch",
        "Nov 30 11:00:00 mail dovecot: managesieve-login: Login: user=<bob>, method=PLAIN, rip=203.0.113.9, lip=198.51.100.1",
        "Nov 30 11:00:00 mail dovecot: submission-login: Login: user=<bob>, method=PLAIN, rip=203.0.113.9, lip=198.51.100.1",
        "Nov 30 11:00:00 mail imapd: LOGIN FAILED, user=bob, ip=[::ffff:203.0.113.9]",
        "Nov 30 11:00:00 mail pop3d: LOGOUT, user=bob, ip=[::ffff:203.0.113.9], top=0, retr=0, rcvd=6, sent=30, time=0",
        "Nov 30 11:00:00 mail imapd-ssl: Connection, ip=[::ffff:203.0.113.9]",
        "Nov 30 11:00:00 mail dovecot: IMAP(bob): Disconnected: Logged out in=10 out=20",
    ])
    func failuresAreNeverLogins(_ line: String) {
        #expect(!Self.isLogin(line))
    }

    /// The words of a login from any program but the mail daemons: not trusted, counted as rejected.
    @Test(arguments: [
        "Nov 30 11:00:00 mail sshd[77]: Invalid user dovecot: imap-login: Login: user=<x>, method=PLAIN, rip=6.6.6.6, lip=1.1.1.1",
        "Nov 30 11:00:00 mail postfix/smtpd[5]: warning: imap-login: Login: user=<x>, method=PLAIN, rip=6.6.6.6, lip=1.1.1.1",
        "Nov 30 11:00:00 mail dovecotx: imap-login: Login: user=<x>, method=PLAIN, rip=6.6.6.6, lip=1.1.1.1",
        "Nov 30 11:00:00 mail dovecot[x]: imap-login: Login: user=<x>, method=PLAIN, rip=6.6.6.6, lip=1.1.1.1",
        "Nov 30 11:00:00 mail kernel: imapd: LOGIN, user=x, ip=[6.6.6.6]",
        "Nov 30 11:00:00 Info: imap-login: Login: user=<username>, method=PLAIN, rip=6.6.6.6, lip=1.2.3.5 Authentication Failure:",
        "Nov 30 11:00:00 imap-login: Login: user=<x>, method=PLAIN, rip=6.6.6.6, lip=1.1.1.1",
        "garbage imap-login: Login: user=<x>, method=PLAIN, rip=6.6.6.6, lip=1.1.1.1",
        // No host field: a tag in the host's place must not let the next word pass as the program.
        "Nov 30 11:00:00 evil: dovecot: imap-login: Login: user=<a>, method=PLAIN, rip=6.6.6.6, lip=1.1.1.1",
        "Nov 30 11:00:00 evil[12]: dovecot: imap-login: Login: user=<a>, method=PLAIN, rip=6.6.6.6, lip=1.1.1.1",
        "Nov 30 11:00:00 mail evil: imapd: LOGIN, user=x, ip=[6.6.6.6]",
    ])
    func otherProgramsAreNotTrusted(_ line: String) {
        guard case .malformed = Self.parse(line) else {
            Issue.record("expected a rejected line: \(line)")
            return
        }
    }

    @Test func anInjectedAddressInTheUserNameDoesNotMoveTheClientAddress() {
        let dovecot = Self.login("Nov 30 11:00:00 mail dovecot: imap-login: Login: user=<x>, method=PLAIN, rip=6.6.6.6, lip=1.1.1.1, x=<y>, method=PLAIN, rip=203.0.113.50, lip=198.51.100.1, mpid=9, TLS, session=<Zm9v>")
        #expect(dovecot?.ip == "203.0.113.50")
        #expect(dovecot?.user == "x>, method=PLAIN, rip=6.6.6.6, lip=1.1.1.1, x=<y")
        #expect(Self.login("Nov 30 11:00:00 mail dovecot: pop3-login: Login: user=<a>b, rip=6.6.6.6>, PID=1, method=PLAIN, rip=203.0.113.51, lip=1.1.1.1")?.ip == "203.0.113.51")
        let courier = Self.login("Nov 30 11:00:00 mail imapd: LOGIN, user=evil, ip=[6.6.6.6], port=[1], ip=[203.0.113.52], port=[51334], protocol=IMAP")
        #expect(courier?.ip == "203.0.113.52")
        #expect(courier?.user == "evil, ip=[6.6.6.6], port=[1]")
    }

    @Test func aLoginWithoutAValidAddressOrUserIsRejected() {
        for line in [
            "Nov 30 11:00:00 mail dovecot: imap-login: Login: user=<x>, method=PLAIN, rip=203.0.113.500, lip=1.1.1.1",
            "Nov 30 11:00:00 mail dovecot: imap-login: Login: user=<x>, method=PLAIN, rip=fe80::1%eth0, lip=1.1.1.1",
            "Nov 30 11:00:00 mail dovecot: imap-login: Login: user=<x>, method=PLAIN, lip=1.1.1.1",
            "Nov 30 11:00:00 mail dovecot: imap-login: Login: user=<>, method=PLAIN, rip=203.0.113.5, lip=1.1.1.1",
            "Nov 30 11:00:00 mail dovecot: imap-login: Login: user=<a\u{1b}[2J>, method=PLAIN, rip=203.0.113.5, lip=1.1.1.1",
            "Nov 30 11:00:00 mail imapd: LOGIN, user=x, ip=[203.0.113.5",
            "Nov 30 11:00:00 mail imapd: LOGIN, user=, ip=[203.0.113.5]",
        ] {
            guard case .malformed = Self.parse(line) else {
                Issue.record("expected a rejected line: \(line)")
                continue
            }
        }
    }

    @Test func syslogYearIsTheOneClosestBeforeNow() {
        // Read on 1 January 2027 at 00:05 UTC: a line from 31 December belongs to 2026.
        let newYear = Date(timeIntervalSince1970: 1_798_761_600 + 300)
        let line = "Dec 31 23:59:00 mail dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=203.0.113.7, lip=1.1.1.1"
        #expect(Self.login(line, now: newYear)?.time == 1_798_761_540)
        let january = "Jan  1 00:04:00 mail dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=203.0.113.7, lip=1.1.1.1"
        #expect(Self.login(january, now: newYear)?.time == 1_798_761_840)
        // A line stamped "tomorrow" is a year old: read on 30 November 2026, 1 December is 2025's.
        let tomorrow = "Dec  1 03:00:00 mail dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=203.0.113.7, lip=1.1.1.1"
        #expect(Self.login(tomorrow)?.time == 1_764_558_000)
        // A few minutes ahead (clocks disagree) stays this year.
        let skewed = "Nov 30 12:04:00 mail dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=203.0.113.7, lip=1.1.1.1"
        #expect(Self.login(skewed)?.time == 1_796_040_240)
        // Dates that do not exist are no timestamp.
        for day in ["Nov 31", "Feb 30", "Nov 32", "Nov  0"] {
            guard case .malformed = Self.parse("\(day) 10:00:00 mail dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=203.0.113.7, lip=1.1.1.1") else {
                Issue.record("\(day) accepted")
                continue
            }
        }
    }

    /// The real dovecot maillog of lograptor's tests (its six successful logins, nothing else), or
    /// without the corpus our own fixture's four.
    @Test func corpusSuccessesAreFound() throws {
        if let path = Corpus.file("maillog/lograptor-dovecot.log") {
            let logins = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap { Self.login(String($0)) }
            #expect(logins.map(\.user) == ["admin", "root", "dino", "triceratops", "tarbosauros", "tarbosauros"])
            #expect(logins.map(\.ip) == ["192.168.0.1", "10.0.0.2", "192.168.190.12", "192.168.41.96", "192.168.19.178", "192.168.19.178"])
            #expect(logins.map(\.proto) == [.imap, .pop3, .pop3, .imap, .imap, .imap])
        }
        let own = try Fixtures.lines("maillog-logins.log").compactMap { Self.login($0) }
        #expect(own.map(\.user) == ["bob@bobsbikes.example", "carol", "dave@carolcakes.example", "erin"])
        #expect(own.map(\.ip) == ["203.0.113.7", "198.51.100.23", "192.0.2.40", "2001:db8::45"])
    }

    /// fail2ban's failed-login samples (and our own fixture): not one line is a login.
    @Test func failedLoginCorporaHoldNoLogin() throws {
        var lines = try Fixtures.lines("maillog-failures.log")
        for name in ["dovecot", "courier-auth", "cyrus-imap", "uwimap-auth", "solid-pop3d", "perdition"] {
            if let path = Corpus.file("fail2ban/\(name).log") {
                lines += try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
            }
        }
        #expect(lines.count >= 20)
        let logins = lines.filter(Self.isLogin)
        #expect(logins.isEmpty, "\(logins)")
    }
}
