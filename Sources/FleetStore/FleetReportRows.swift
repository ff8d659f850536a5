import TailWatchEngine

/// The fleet's PostgreSQL as a report's source: the reports' own SQL, with `?` placeholders
/// numbered for PostgreSQL, every value passed and returned as text.
public struct FleetReportRows: ReportRows {
    public let connection: PostgresConnection

    public init(_ connection: PostgresConnection) { self.connection = connection }

    public var isFleet: Bool { true }

    public func fetch(_ sql: String, _ arguments: [ReportValue]) throws -> [[ReportValue]] {
        let parameters: [String?] = arguments.map { value in
            switch value {
            case .null: nil
            case .integer(let n): String(n)
            case .real(let d): String(d)
            case .text(let s): s
            }
        }
        return try connection.query(Self.numbered(sql), parameters).map { row in row.map { $0.map(ReportValue.text) ?? .null } }
    }

    public func monthStart(_ column: String) -> String {
        "(EXTRACT(EPOCH FROM date_trunc('month', to_timestamp(\(column)) AT TIME ZONE 'UTC'))::BIGINT)"
    }

    /// `?` → `$1`, `$2`…, outside quoted strings and identifiers.
    static func numbered(_ sql: String) -> String {
        var out = ""
        var n = 0
        var quote: Character?
        for c in sql {
            if let q = quote {
                if c == q { quote = nil }
                out.append(c)
            } else if c == "'" || c == "\"" {
                quote = c
                out.append(c)
            } else if c == "?" {
                n += 1
                out += "$\(n)"
            } else {
                out.append(c)
            }
        }
        return out
    }
}
