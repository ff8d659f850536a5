import Foundation
import TailWatchEngine

/// The mail protocol a client logged in with.
public enum MailLoginProtocol: String, Sendable, CaseIterable {
    case imap, pop3
}

/// One successful POP3 or IMAP login: who, from where, when. `user` is borrowed from the line.
public struct RelayLogin {
    public var time: Int64
    public var ip: IPAddress
    public var user: ByteLine
    public var `protocol`: MailLoginProtocol
}

/// What a maillog line is to the relay driver.
public enum LoginLine {
    case login(RelayLogin)
    /// Not a successful login (most lines; every failure, abort and disconnect).
    case notLogin
    /// It has the words of a login but not its shape; never whitelisted, counted and warned about.
    case malformed(RejectReason)
}

/// Finds successful logins in a syslog maillog: dovecot 2.x and 1.x
/// `imap-login: Login: user=<…>, …, rip=IP, lip=…` / `pop3-login: Login: …` from `dovecot` or
/// `dovecot[PID]`, and courier's `LOGIN, user=…, ip=[IP]` from `imapd`, `imapd-ssl`, `pop3d`,
/// `pop3d-ssl` and `courierpop3login`.
///
/// Why so strict: this decides who may relay mail through the server. The program must be one of
/// those daemons (another program's line holding the same words is no login); the message must
/// start with the success words (`Login:` — never `Login aborted`, `LOGIN FAILED`, `Aborted login`,
/// `Disconnected`); the client address is the last `, rip=` (`, ip=[`) of the line, because the
/// elements after it are written by dovecot itself while the user name before it is the only free
/// text, so a name holding `, rip=6.6.6.6` or `>` cannot move it.
///
/// Cost: lines without `Login: user=<` or `LOGIN, user=` are dismissed with a `memchr` loop for `L`.
public struct LoginLineParser {
    private var stamp: SyslogTimestamp

    /// Classic stamps more than this far ahead of now belong to an earlier year: a year-old line
    /// must never pass for a fresh login.
    public static let futureTolerance: Int64 = 300

    public init(zone: TimeZone, now: @escaping () -> Date = Date.init) {
        stamp = SyslogTimestamp(zone: zone, futureTolerance: Self.futureTolerance, now: now)
    }

    private enum Daemon { case dovecot, courier(MailLoginProtocol) }

    public mutating func parse(_ line: ByteLine) -> LoginLine {
        guard Self.hasLoginWords(line) else { return .notLogin }
        guard let (time, afterStamp) = stamp.parse(line) else { return .malformed(.loginWithoutTimestamp) }
        guard let hostEnd = line.firstIndex(of: 0x20, from: afterStamp), hostEnd > afterStamp,
              Self.isHostName(line.slice(afterStamp..<hostEnd)) else { return .malformed(.loginWithoutProgram) }
        guard let (daemon, messageStart) = Self.program(line, at: hostEnd + 1) else { return .malformed(.loginFromOtherProgram) }
        switch daemon {
        case .dovecot:
            let proto: MailLoginProtocol
            if line.matches("imap-login: Login: user=<", at: messageStart) { proto = .imap }
            else if line.matches("pop3-login: Login: user=<", at: messageStart) { proto = .pop3 }
            else { return .notLogin }
            let userStart = messageStart + 25
            guard let rip = Self.lastIndex(of: ", rip=", in: line, from: userStart) else { return .malformed(.loginWithoutClientIP) }
            let ipStart = rip + 6
            let ipEnd = line.firstIndex(of: 0x2C, from: ipStart) ?? line.count
            // The user element ends at the last ">, " before the address.
            var userEnd: Int? = nil
            var from = userStart
            while let hit = line.firstIndex(of: ">, ", from: from), hit < rip {
                userEnd = hit
                from = hit + 1
            }
            guard let userEnd else { return .malformed(.loginWithoutUser) }
            return login(line, time: time, user: userStart..<userEnd, ip: ipStart..<ipEnd, protocol: proto)
        case .courier(let proto):
            guard line.matches("LOGIN, user=", at: messageStart) else { return .notLogin }
            let userStart = messageStart + 12
            guard let ip = Self.lastIndex(of: ", ip=[", in: line, from: userStart),
                  let close = line.firstIndex(of: 0x5D, from: ip + 6) else { return .malformed(.loginWithoutClientIP) }
            return login(line, time: time, user: userStart..<ip, ip: (ip + 6)..<close, protocol: proto)
        }
    }

    private func login(_ line: ByteLine, time: Int64, user: Range<Int>, ip: Range<Int>, protocol proto: MailLoginProtocol) -> LoginLine {
        guard let address = IPAddress(line.slice(ip)) else { return .malformed(.loginWithoutClientIP) }
        let name = line.slice(user)
        guard name.count > 0, name.count <= 255, name.isValidUTF8 else { return .malformed(.loginWithoutUser) }
        for i in 0..<name.count where name[i] < 0x20 || name[i] == 0x7F { return .malformed(.loginWithoutUser) }
        return .login(RelayLogin(time: time, ip: address, user: name, protocol: proto))
    }

    /// `Login: user=<` or `LOGIN, user=` anywhere after the timestamp.
    @inline(__always) static func hasLoginWords(_ line: ByteLine) -> Bool {
        var i = 15
        while let hit = line.firstIndex(of: 0x4C, from: i) {
            if line.matches("Login: user=<", at: hit) || line.matches("LOGIN, user=", at: hit) { return true }
            i = hit + 1
        }
        return false
    }

    /// The syslog host field: a name or address, never a program tag (`evil:`, `prog[1]:`), so
    /// that a line without a host cannot slide a tag of its choosing into the program's place.
    static func isHostName(_ host: ByteLine) -> Bool {
        guard host.count <= 255, host[host.count - 1] != 0x3A else { return false }
        for i in 0..<host.count {
            let b = host[i] | 0x20
            let ok = (b >= 0x61 && b <= 0x7A) || (host[i] >= 0x30 && host[i] <= 0x39) || host[i] == 0x2E || host[i] == 0x2D || host[i] == 0x5F || host[i] == 0x3A
            if !ok { return false }
        }
        return true
    }

    /// The daemon named by the program field at `start` (`name: ` or `name[PID]: `) and where its
    /// message starts; nil for any other program.
    private static func program(_ line: ByteLine, at start: Int) -> (Daemon, Int)? {
        var end = start
        while end < line.count, line[end] != 0x5B, line[end] != 0x3A, line[end] != 0x20 { end += 1 }
        let name = line.slice(start..<end)
        let daemon: Daemon
        if name.count == 7, name.hasPrefix("dovecot") { daemon = .dovecot }
        else if name.count == 5, name.hasPrefix("imapd") { daemon = .courier(.imap) }
        else if name.count == 9, name.hasPrefix("imapd-ssl") { daemon = .courier(.imap) }
        else if name.count == 5, name.hasPrefix("pop3d") { daemon = .courier(.pop3) }
        else if name.count == 9, name.hasPrefix("pop3d-ssl") { daemon = .courier(.pop3) }
        else if name.count == 16, name.hasPrefix("courierpop3login") { daemon = .courier(.pop3) }
        else { return nil }
        var i = end
        if i < line.count, line[i] == 0x5B {
            guard let close = line.firstIndex(of: 0x5D, from: i), close > i + 1, line.slice((i + 1)..<close).decimalValue != nil else { return nil }
            i = close + 1
        }
        guard line.matches(": ", at: i) else { return nil }
        return (daemon, i + 2)
    }

    /// The last place at or after `from` where `needle` starts.
    static func lastIndex(of needle: StaticString, in line: ByteLine, from: Int) -> Int? {
        var last: Int? = nil
        var i = from
        while let hit = line.firstIndex(of: needle, from: i) {
            last = hit
            i = hit + 1
        }
        return last
    }
}

extension RejectReason {
    static let loginWithoutTimestamp = RejectReason("login line without a syslog timestamp")
    public static let loginWithoutProgram = RejectReason("login line without a syslog host and program field")
    public static let loginInFuture = RejectReason("login stamped more than 5 minutes ahead of the clock")
    static let loginFromOtherProgram = RejectReason("login words from a program that is not dovecot or courier (not trusted)")
    static let loginWithoutClientIP = RejectReason("login line without a valid client IP (rip= / ip=)")
    static let loginWithoutUser = RejectReason("login line without a valid user name")
}
