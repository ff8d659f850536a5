/// The type of a custom driver's column, which decides how a captured value is checked, converted
/// and stored.
///
/// Why typed columns: a report that sums or sorts needs integers that are integers and addresses in
/// one spelling; a line whose capture does not convert is rejected (counted, warned about) instead
/// of storing a value that silently breaks those reports.
public enum ColumnType: Sendable, Equatable {
    /// Stored as written (invalid UTF-8 repaired).
    case text
    /// A signed decimal integer (`-` alone, as web logs write "no bytes", is 0).
    case integer
    /// An IPv4 or IPv6 address, stored in its canonical form (RFC 5952; IPv4-mapped as IPv4).
    case ip
    /// A point in time, stored as Unix seconds.
    case timestamp(TimestampFormat)

    /// Parses the spelling in a definition: `text`, `integer`, `ip`, `timestamp FORMAT`.
    init?(spelling: String) {
        let words = spelling.split(separator: " ", omittingEmptySubsequences: true)
        switch (words.first, words.count) {
        case ("text", 1): self = .text
        case ("integer", 1): self = .integer
        case ("ip", 1): self = .ip
        case ("timestamp", 2):
            guard let format = TimestampFormat(rawValue: String(words[1])) else { return nil }
            self = .timestamp(format)
        default: return nil
        }
    }

    /// The definition's spelling, also kept in the recorded schema.
    public var spelling: String {
        switch self {
        case .text: "text"
        case .integer: "integer"
        case .ip: "ip"
        case .timestamp(let format): "timestamp \(format.rawValue)"
        }
    }

    /// The SQLite column type.
    var sqlType: String {
        switch self {
        case .text, .ip: "TEXT"
        case .integer, .timestamp: "INTEGER"
        }
    }

    static let spellings = "text, integer, ip, or timestamp with one of: \(TimestampFormat.allCases.map(\.rawValue).joined(separator: ", "))"
}

/// How a timestamp column is written in the log.
public enum TimestampFormat: String, Sendable, CaseIterable {
    /// `Nov 30 06:27:03` (the year is the one that puts it closest before now, zone `timezone`),
    /// or RFC 3339 as rsyslog writes it.
    case syslog
    /// `2026-11-30T06:27:03Z`, `2026-11-30 06:27:03`, with optional fraction and offset (zone
    /// `timezone` when there is no offset).
    case iso8601
    /// Apache's `%t`: `30/Nov/2026:06:27:03 +0000`, brackets optional.
    case clf
    /// Unix seconds, with an optional fraction (dropped).
    case epoch
}
