import Foundation

/// Classic syslog timestamps (`Nov  3 09:05:01`, UTC) for lines written by tests.
public enum SyslogStamp {
    public static func classic(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "MMM d HH:mm:ss"
        let text = f.string(from: date)
        // The day is padded with a space to two characters: "Nov  3", "Nov 30".
        let parts = text.split(separator: " ", maxSplits: 1)
        return parts[0] + (parts[1].split(separator: " ")[0].count == 1 ? "  " : " ") + parts[1]
    }

    /// A successful dovecot 2.x login line.
    public static func dovecotLogin(_ date: Date, user: String, ip: String, protocol proto: String = "imap") -> String {
        "\(classic(date)) mail dovecot: \(proto)-login: Login: user=<\(user)>, method=PLAIN, rip=\(ip), lip=198.51.100.1, mpid=1, TLS, session=<x>\n"
    }
}
