import GRDB
import TailWatchEngine

/// Adds a batch's sums to the four rollup tables, one prepared upsert each.
final class BandwidthWriter {
    /// (statement, start of the period holding a time).
    private let tables: [(PreparedStatement, (Int64) -> Int64)]

    static func floor(_ t: Int64, _ step: Int64) -> Int64 { t - ((t % step) + step) % step }

    init(_ db: Database) throws {
        func upsert(_ table: String) throws -> PreparedStatement {
            try PreparedStatement(db, sql: """
                INSERT INTO \(table) (user, domain, protocol, period, bytes, hits) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (user, domain, protocol, period) DO UPDATE SET bytes = bytes + excluded.bytes, hits = hits + excluded.hits
                """)
        }
        tables = [
            (try upsert("bandwidth_5min"), { Self.floor($0, 300) }),
            (try upsert("bandwidth_hourly"), { Self.floor($0, 3600) }),
            (try upsert("bandwidth_daily"), { Self.floor($0, 86400) }),
            (try upsert("bandwidth_monthly"), { CivilTime.monthStart(ofUTC: $0) }),
        ]
    }

    func add(user: ByteLine, domain: ByteLine, protocol name: ByteLine, bucket: Int64, bytes: Int64, hits: Int64) throws {
        for (statement, period) in tables {
            statement.bind(1, user)
            statement.bind(2, domain)
            statement.bind(3, name)
            statement.bind(4, period(bucket))
            statement.bind(5, bytes)
            statement.bind(6, hits)
            try statement.run()
        }
    }
}
