import GRDB

/// Where a report's SQL runs: this server's SQLite file, or the fleet's PostgreSQL (every
/// server's shipped rollups, with a `host` column).
///
/// Why an abstraction here: a report's query (`BandwidthReport`, `MailReport`) is built once and
/// run on either store, so `tailwatch-report --fleet` answers with the same arithmetic as the
/// local report. Queries use `?` placeholders and double-quoted identifiers, which both accept;
/// the few expressions that differ are asked of the source.
public protocol ReportRows {
    /// The fleet's store: rows have a `host`, and hours are the finest grain kept.
    var isFleet: Bool { get }
    /// Runs `sql` with `arguments` for `?` in order.
    func fetch(_ sql: String, _ arguments: [ReportValue]) throws -> [[ReportValue]]
    /// SQL for the UTC month start (unix seconds) of the unix time in `column`.
    func monthStart(_ column: String) -> String
}

/// One value of a report's row, as both stores return it.
public enum ReportValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    public var int64: Int64 {
        switch self {
        case .integer(let n): n
        case .real(let d): Int64(exactly: d.rounded(.towardZero)) ?? (d < 0 ? .min : .max)
        // PostgreSQL's SUM over BIGINT is NUMERIC; a sum past Int64 saturates rather than trap.
        case .text(let s): Int64(s) ?? Double(s).map { Int64(exactly: $0.rounded()) ?? ($0 < 0 ? .min : .max) } ?? 0
        case .null: 0
        }
    }

    public var optionalInt64: Int64? { self == .null ? nil : int64 }

    /// An average or share (PostgreSQL's are NUMERIC, read as text); nil for NULL.
    public var double: Double? {
        switch self {
        case .integer(let n): Double(n)
        case .real(let d): d
        case .text(let s): Double(s)
        case .null: nil
        }
    }

    public var string: String {
        switch self {
        case .text(let s): s
        case .integer(let n): String(n)
        case .real(let d): String(d)
        case .null: ""
        }
    }
}

/// The local SQLite file, through a GRDB connection.
public struct SQLiteReportRows: ReportRows {
    public let db: Database

    public init(_ db: Database) { self.db = db }

    public var isFleet: Bool { false }

    public func fetch(_ sql: String, _ arguments: [ReportValue]) throws -> [[ReportValue]] {
        let values: [(any DatabaseValueConvertible)?] = arguments.map { value in
            switch value {
            case .null: nil
            case .integer(let n): n
            case .real(let d): d
            case .text(let s): s
            }
        }
        return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(values)).map { row in
            (0..<row.count).map { i in
                switch (row[i] as DatabaseValue).storage {
                case .null: .null
                case .int64(let n): .integer(n)
                case .double(let d): .real(d)
                case .string(let s): .text(s)
                case .blob(let data): .text(String(decoding: data, as: UTF8.self))
                }
            }
        }
    }

    public func monthStart(_ column: String) -> String {
        "CAST(strftime('%s', \(column), 'unixepoch', 'start of month') AS INTEGER)"
    }
}
