import Foundation
import TailWatchEngine

/// Bytes a mail client moved in one IMAP or POP3 session, from dovecot's logout line.
public struct MailSession {
    public var time: Int64
    public var `protocol`: BandwidthProtocol
    /// The login name (`user@domain`, or a system user), borrowed from the line.
    public var user: ByteLine
    public var bytes: Int64
}

/// Finds dovecot's session-end lines in a syslog maillog and reads their byte counts:
/// IMAP `bytes=IN/OUT` (1.x) or `in=IN out=OUT` (2.x), both directions counted; POP3
/// `top=N/BYTES, retr=N/BYTES` (bytes sent), from `dovecot` or `dovecot[PID]` only.
///
/// The counters are read only after the `imap(user)…: ` prefix, so a user name holding
/// `bytes=1/999` cannot set them. Every other line returns nil cheaply (a memmem for "(").
public struct DovecotLogoutParser {
    private var stamp: SyslogTimestamp

    public init(zone: TimeZone, now: @escaping () -> Date = Date.init) {
        stamp = SyslogTimestamp(zone: zone, now: now)
    }

    public mutating func parse(_ line: ByteLine) -> MailSession? {
        // Cheap pre-filter: a session end always says one of these.
        guard line.firstIndex(of: "bytes=") != nil || line.firstIndex(of: " in=") != nil || line.firstIndex(of: "retr=") != nil else { return nil }
        guard let (time, afterStamp) = stamp.parse(line) else { return nil }
        // "host program: message"
        guard let hostEnd = line.firstIndex(of: 0x20, from: afterStamp), hostEnd + 1 < line.count else { return nil }
        let programStart = hostEnd + 1
        guard line.matches("dovecot", at: programStart) else { return nil }
        var i = programStart + 7
        if i < line.count, line[i] == 0x5B {
            guard let close = line.firstIndex(of: 0x5D, from: i), line.slice((i + 1)..<close).decimalValue != nil else { return nil }
            i = close + 1
        }
        guard line.matches(": ", at: i) else { return nil }
        i += 2
        let proto: BandwidthProtocol
        if line.matches("IMAP(", at: i) || line.matches("imap(", at: i) { proto = .imap }
        else if line.matches("POP3(", at: i) || line.matches("pop3(", at: i) { proto = .pop3 }
        else { return nil }
        let userStart = i + 5
        guard let userEnd = line.firstIndex(of: 0x29, from: userStart), userEnd > userStart else { return nil }
        let user = line.slice(userStart..<userEnd)
        // Skip "<pid><session>" and find ": ".
        guard let colon = line.firstIndex(of: ": ", from: userEnd + 1) else { return nil }
        // Only a session's end carries its byte counts ("Logged out", "Disconnected…: Logged out",
        // "Disconnected in IDLE", "Connection closed"); other lines of the session (the mail_log
        // plugin's, with a subject or Message-ID someone else wrote) are not read for counters.
        let message = line.slice((colon + 2)..<line.count)
        guard message.hasPrefix("Logged out") || message.hasPrefix("Disconnected") || message.hasPrefix("Connection closed") else { return nil }
        let counters = message
        let bytes: Int64?
        switch proto {
        case .imap:
            if let pair = Self.pair(counters, "bytes=") {
                bytes = pair.0 &+ pair.1
            } else if let inBytes = Self.number(counters, "in="), let outBytes = Self.number(counters, "out=") {
                bytes = inBytes &+ outBytes
            } else {
                bytes = nil
            }
        default:
            guard let retr = Self.pair(counters, "retr=") else { return nil }
            bytes = retr.1 &+ (Self.pair(counters, "top=")?.1 ?? 0)
        }
        guard let bytes else { return nil }
        return MailSession(time: time, protocol: proto, user: user, bytes: bytes)
    }

    /// The number after `key` when it starts a word (`key` at the start or after a space).
    static func number(_ text: ByteLine, _ key: StaticString) -> Int64? {
        var from = 0
        while let at = text.firstIndex(of: key, from: from) {
            if at == 0 || text[at - 1] == 0x20 {
                var e = at + key.utf8CodeUnitCount
                let s = e
                while e < text.count, text[e] &- 0x30 < 10 { e += 1 }
                guard e > s, e - s <= 15 else { return nil }
                return text.slice(s..<e).decimalValue
            }
            from = at + 1
        }
        return nil
    }

    /// `key=A/B` as (A, B).
    static func pair(_ text: ByteLine, _ key: StaticString) -> (Int64, Int64)? {
        guard let at = text.firstIndex(of: key) , at == 0 || text[at - 1] == 0x20 else { return nil }
        var e = at + key.utf8CodeUnitCount
        let s = e
        while e < text.count, text[e] &- 0x30 < 10 { e += 1 }
        guard e > s, e - s <= 15, e < text.count, text[e] == 0x2F, let a = text.slice(s..<e).decimalValue else { return nil }
        let s2 = e + 1
        var e2 = s2
        while e2 < text.count, text[e2] &- 0x30 < 10 { e2 += 1 }
        guard e2 > s2, e2 - s2 <= 15, let b = text.slice(s2..<e2).decimalValue else { return nil }
        return (a, b)
    }
}
