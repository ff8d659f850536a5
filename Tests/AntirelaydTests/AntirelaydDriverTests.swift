import Foundation
import GRDB
import Logging
import Testing
import Antirelayd
import TailWatchEngine
import TestSupport

/// The antirelayd driver through the real engine: real maillogs in, relay rows and exim's
/// whitelist files out.
@Suite struct AntirelaydDriverTests {
    /// A wall clock the test moves.
    final class Clock: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Date
        init(_ date: Date) { value = date }
        var now: Date {
            get { lock.withLock { value } }
            set { lock.withLock { value = newValue } }
        }
    }

    final class Setup {
        let h: DriverHarness
        var settings = AntirelaydSettings()
        let clock: Clock
        let maillog: String
        let hosts: String
        let users: String

        init(now: Date = Date()) throws {
            h = try DriverHarness(label: "antirelayd", modules: [AntirelaydDriver.descriptor.migrations], userdomains: "")
            clock = Clock(now)
            maillog = h.folder.file("maillog")
            hosts = h.folder.file("recent_authed_mail_ips")
            users = h.folder.file("recent_authed_mail_ips_users")
            settings.maillog = maillog
            settings.localAddresses = [IPNetwork("198.51.100.1")!, IPNetwork("2001:db8:ffff::/48")!]
            settings.export = hosts
            settings.exportUsers = users
        }

        var configured: ConfiguredDriver {
            let s = settings
            let clock = clock
            return ConfiguredDriver(enabled: true, sources: [.file(s.maillog)]) { context, db in
                try AntirelaydDriver(settings: s, context: context, db: db, clock: { clock.now })
            }
        }

        func run() throws { try h.runOnce("antirelayd", configured) }

        /// A syslog stamp `secondsAgo` before the clock (UTC, as the harness's zone).
        func stamp(_ secondsAgo: Int) -> String {
            SyslogStamp.classic(clock.now.addingTimeInterval(-Double(secondsAgo)))
        }

        func dovecot(_ secondsAgo: Int, _ user: String, _ ip: String, _ proto: String = "imap") -> String {
            SyslogStamp.dovecotLogin(clock.now.addingTimeInterval(-Double(secondsAgo)), user: user, ip: ip, protocol: proto)
        }

        func whitelist(at now: Date? = nil) throws -> RelayWhitelist {
            let s = settings
            let at = Int64((now ?? clock.now).timeIntervalSince1970)
            return try h.database().read { db in
                try RelayWhitelist.load(db, now: at, windowSeconds: s.windowSeconds, local: LocalAddresses(configured: s.localAddresses))
            }
        }

        func text(_ path: String) -> String? {
            FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    @Test func loginsBecomeOneEntryPerAddressExactlyOnce() throws {
        let t = try Setup()
        try LogWriter.append(t.maillog,
            t.dovecot(600, "bob@bobsbikes.example", "203.0.113.7")
            + t.dovecot(300, "bob@bobsbikes.example", "203.0.113.7")
            + t.dovecot(200, "bob@bobsbikes.example", "::ffff:203.0.113.7", "pop3")
            + t.dovecot(100, "carol", "203.0.113.7")
            + t.dovecot(100, "dave", "2001:DB8:0:0:0:0:0:5")
            + "\(t.stamp(90)) mail imapd-ssl: LOGIN, user=erin, ip=[::ffff:192.0.2.40], port=[4], protocol=IMAP\n"
            + "\(t.stamp(90)) mail dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<mallory>, method=PLAIN, rip=192.0.2.66, lip=198.51.100.1\n"
            + "\(t.stamp(90)) mail sshd[4]: dovecot: imap-login: Login: user=<mallory>, method=PLAIN, rip=192.0.2.67, lip=198.51.100.1\n"
            // Never whitelisted: loopback, the server's own addresses, a login older than the window.
            + t.dovecot(80, "webmail", "127.0.0.1") + t.dovecot(80, "webmail", "::1") + t.dovecot(80, "webmail", "::ffff:127.0.0.1")
            + t.dovecot(80, "proxy", "198.51.100.1") + t.dovecot(80, "proxy", "2001:db8:ffff::25")
            + t.dovecot(31 * 60, "old", "192.0.2.99"))
        try t.run()
        try t.run() // nothing new: nothing changes
        let rows = try t.h.database().read { db in
            try Row.fetchAll(db, sql: "SELECT ip, user, protocol, logins FROM relay_auth ORDER BY ip, user, protocol")
                .map { "\($0["ip"] as String) \($0["user"] as String) \($0["protocol"] as String) \($0["logins"] as Int)" }
        }
        #expect(rows == [
            "192.0.2.40 erin imap 1",
            "2001:db8::5 dave imap 1",
            "203.0.113.7 bob@bobsbikes.example imap 2",
            "203.0.113.7 bob@bobsbikes.example pop3 1",
            "203.0.113.7 carol imap 1",
        ])
        // IPv6 keys are quoted: exim's lookup files end a bare key at its first colon.
        #expect(t.text(t.hosts) == "192.0.2.40\n203.0.113.7\n\"2001:db8::5\"\n")
        #expect(t.text(t.users) == "192.0.2.40: erin\n203.0.113.7: carol, bob@bobsbikes.example\n\"2001:db8::5\": dave\n")
        #expect(try t.h.count("SELECT lines_rejected FROM driver_stats WHERE driver = 'antirelayd'") == 1)
    }

    @Test func anUnchangedWhitelistIsNotRewrittenAndASymlinkIsReplacedNotFollowed() throws {
        let t = try Setup()
        t.settings.exportMode = 0o640
        let victim = try t.h.folder.write("victim", "precious\n")
        try FileManager.default.createSymbolicLink(atPath: t.hosts, withDestinationPath: victim)
        try LogWriter.append(t.maillog, t.dovecot(60, "bob", "203.0.113.7"))
        try t.run()
        #expect(t.text(victim) == "precious\n")
        let first = try FileManager.default.attributesOfItem(atPath: t.hosts)
        #expect(first[.type] as? FileAttributeType == .typeRegular)
        #expect((first[.posixPermissions] as? Int) == 0o640)
        #expect(t.text(t.hosts) == "203.0.113.7\n")
        // Another login of the same user from the same address: same files, same inode and mtime.
        Thread.sleep(forTimeInterval: 0.02)
        try LogWriter.append(t.maillog, t.dovecot(30, "bob", "203.0.113.7"))
        try t.run()
        let second = try FileManager.default.attributesOfItem(atPath: t.hosts)
        #expect(second[.systemFileNumber] as? Int == first[.systemFileNumber] as? Int)
        #expect(second[.modificationDate] as? Date == first[.modificationDate] as? Date)
        // No temporary files left behind; a dead writer's leftover is cleaned up at the next write.
        let stale = t.h.folder.file(".recent_authed_mail_ips.tmp.999999999.x1")
        try "junk".write(toFile: stale, atomically: false, encoding: .utf8)
        try LogWriter.append(t.maillog, t.dovecot(20, "carol", "203.0.113.8"))
        try t.run()
        #expect(!FileManager.default.fileExists(atPath: stale))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: t.h.folder.path).filter { $0.contains(".tmp.") }
        #expect(leftovers.isEmpty)
    }

    @Test func anEntryLeavesAtTheEdgeOfTheWindowAndIsPruned() throws {
        let t = try Setup()
        try LogWriter.append(t.maillog, t.dovecot(0, "bob", "203.0.113.7"))
        try t.run()
        let login = t.clock.now
        let window = Double(t.settings.windowSeconds)
        #expect(try t.whitelist(at: login.addingTimeInterval(window - 1)).entries.map(\.host.description) == ["203.0.113.7"])
        #expect(try t.whitelist(at: login.addingTimeInterval(window)).entries.isEmpty)
        // A later start of the daemon rewrites the files without it and prunes the row.
        t.clock.now = login.addingTimeInterval(window)
        try t.run()
        #expect(t.text(t.hosts) == "")
        #expect(t.text(t.users) == "")
        #expect(try t.h.count("SELECT count(*) FROM relay_auth") == 0)
    }

    /// The daemon path: a new login reaches the files after its commit, and an expiry rewrites them
    /// while the daemon runs, without any new line.
    @Test func theRunningDaemonKeepsTheFilesCurrent() throws {
        let t = try Setup()
        try LogWriter.append(t.maillog, "")
        let daemon = t.h.startDaemon("antirelayd", t.configured)
        defer { #expect(throws: Never.self) { try daemon.stop() } }
        #expect(eventually { t.text(t.hosts) == "" }, "the files exist from the start")
        try LogWriter.append(t.maillog, t.dovecot(0, "bob", "203.0.113.7"))
        #expect(eventually { t.text(t.hosts) == "203.0.113.7\n" })
        #expect(eventually { t.text(t.users) == "203.0.113.7: bob\n" })
        t.clock.now = t.clock.now.addingTimeInterval(Double(t.settings.windowSeconds))
        #expect(eventually { t.text(t.hosts) == "" })
    }


    @Test func alwaysRelayIsMergedAndBadLinesAreSkipped() throws {
        let t = try Setup()
        t.settings.alwaysRelay = try t.h.folder.write("alwaysrelay", "# ours\n192.0.2.99: ops\n10.9.0.0/16\n203.0.113.7: backup\nnot-an-ip: x\n2001:db8::/32\n\"2001:db8:1::9\": v6ops\n")
        try LogWriter.append(t.maillog, t.dovecot(60, "bob", "203.0.113.7"))
        try t.run()
        #expect(t.text(t.hosts) == "10.9.0.0/16\n192.0.2.99\n203.0.113.7\n\"2001:db8::/32\"\n\"2001:db8:1::9\"\n")
        #expect(t.text(t.users) == "192.0.2.99: ops\n203.0.113.7: bob, backup\n\"2001:db8:1::9\": v6ops\n")
        let always = AlwaysRelay.load(path: t.settings.alwaysRelay!)
        #expect(always.problems.count == 1 && always.problems[0].contains(":5:"))
        // Written on Windows: the same entries.
        let crlf = AlwaysRelay(text: "192.0.2.99: ops\r\n10.9.0.0/16\r\n", path: "alwaysrelay")
        #expect(crlf.entries.map(\.host.description) == ["192.0.2.99", "10.9.0.0/16"] && crlf.problems.isEmpty)
    }

    /// fail2ban's failed-login samples (and our own), re-stamped to now so that the window would
    /// hold them: not one address reaches the whitelist.
    @Test func failedLoginsLeaveTheWhitelistEmpty() throws {
        let t = try Setup()
        var lines = try Fixtures.lines("maillog-failures.log")
        for name in ["dovecot", "courier-auth", "cyrus-imap", "uwimap-auth", "solid-pop3d", "perdition"] {
            if let path = Corpus.file("fail2ban/\(name).log") {
                lines += try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
            }
        }
        let now = t.stamp(10)
        let restamped = lines.map { line -> String in
            let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
            guard line.count > 15, months.contains(String(line.prefix(3))) else { return line }
            return now + line.dropFirst(15)
        }
        try LogWriter.append(t.maillog, restamped.joined(separator: "\n") + "\n")
        try t.run()
        #expect(try t.h.count("SELECT count(*) FROM relay_auth") == 0)
        #expect(t.text(t.hosts) == "")
        #expect(try t.h.count("SELECT lines_read FROM driver_stats WHERE driver = 'antirelayd'") == restamped.count)
    }

    /// An RFC 3339 stamp far ahead of the clock is no fresh login (and says so).
    @Test func aLoginFromTheFutureIsRejected() throws {
        let t = try Setup()
        let f = ISO8601DateFormatter()
        let ahead = f.string(from: t.clock.now.addingTimeInterval(3600))
        let slightly = f.string(from: t.clock.now.addingTimeInterval(60))
        try LogWriter.append(t.maillog,
            "\(ahead) mail dovecot[9]: imap-login: Login: user=<bob>, method=PLAIN, rip=203.0.113.80, lip=198.51.100.1\n"
            + "\(slightly) mail dovecot[9]: imap-login: Login: user=<bob>, method=PLAIN, rip=203.0.113.81, lip=198.51.100.1\n")
        try t.run()
        #expect(t.text(t.hosts) == "203.0.113.81\n")
        #expect(try t.h.count("SELECT last_login FROM relay_auth") <= Int(t.clock.now.timeIntervalSince1970))
        #expect(try t.h.count("SELECT count(*) FROM rejected_lines WHERE reason LIKE 'login stamped%'") == 1)
    }

    /// A reader polling the file while exports alternate between two lists: it only ever sees one
    /// whole list or the other.
    @Test func aReaderNeverSeesAPartialWhitelist() throws {
        let folder = TemporaryFolder("relay-atomic")
        let path = folder.file("recent_authed_mail_ips")
        let small = RelayWhitelist(entries: [.init(host: IPNetwork("192.0.2.1")!, users: ["a"], lastLogin: 1)])
        let large = RelayWhitelist(entries: (0..<3000).map { .init(host: IPNetwork(IPAddress(v4: 0x0A00_0000 + UInt32($0)).text)!, users: ["u\($0)"], lastLogin: 1) })
        _ = try small.export(hosts: path, users: nil, mode: 0o644)
        let valid: Set<String> = [small.hostsText, large.hostsText]
        let stop = ManagedAtomicFlag()
        let bad = ManagedAtomicFlag()
        let reads = ManagedCounter()
        let reader = Thread {
            while !stop.isSet {
                guard let data = FileManager.default.contents(atPath: path), valid.contains(String(decoding: data, as: UTF8.self)) else {
                    bad.set()
                    return
                }
                reads.increment()
            }
        }
        reader.start()
        for i in 0..<300 { _ = try (i % 2 == 0 ? large : small).export(hosts: path, users: nil, mode: 0o644) }
        stop.set()
        while !reader.isFinished { Thread.sleep(forTimeInterval: 0.001) }
        #expect(!bad.isSet)
        #expect(reads.value > 0)
    }
}

/// Tiny thread-safe flag and counter for the polling reader.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    var isSet: Bool { lock.withLock { flag } }
    func set() { lock.withLock { flag = true } }
}

final class ManagedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}
