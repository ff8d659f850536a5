import Foundation

/// Writes realistic cPanel-style exim mainlog traffic with checkable answers: message `i` has the
/// id `genId(i)` (old 16-character format), one arrival, one delivery and a `Completed` line.
public enum MainlogGenerator {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// A unique old-format message id for `i`.
    public static func messageID(_ i: Int) -> String {
        var digits = [UInt8](repeating: 0x30, count: 12)
        var n = i
        for k in stride(from: 11, through: 0, by: -1) {
            digits[k] = alphabet[n % 62]
            n /= 62
        }
        let s = String(decoding: digits, as: UTF8.self)
        let a = s.prefix(6), b = s.dropFirst(6)
        return "\(a)-\(b)-Zz"
    }

    /// Lines for messages `range`, one second apart from `start`, sent by `users` in turn.
    public static func lines(_ range: Range<Int>, start: Int = 1_793_610_000, users: Int = 10) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        var out = ""
        for i in range {
            let ts = f.string(from: Date(timeIntervalSince1970: Double(start + i)))
            let id = messageID(i)
            let u = i % users
            out += "\(ts) \(id) <= user\(u)@site\(u).example H=(client) [203.0.113.\(u)] P=esmtpa A=dovecot_login:user\(u)@site\(u).example S=\(1000 + i % 500) id=\(i)@client T=\"message \(i)\" for rcpt\(i)@example.org\n"
            out += "\(ts) \(id) => rcpt\(i)@example.org R=dkim_lookuphost T=dkim_remote_smtp H=mx.example.org [198.51.100.7] C=\"250 OK\"\n"
            out += "\(ts) \(id) Completed\n"
        }
        return out
    }

    public static func userdomains(users: Int = 10) -> String {
        (0..<users).map { "site\($0).example: user\($0)\n" }.joined()
    }
}
