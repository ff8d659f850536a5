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

    /// Adds one batch's 5-minute sums to all four tables, summing each table's periods in memory
    /// first, so that an hour holding twelve 5-minute keys costs one upsert, not twelve.
    func add(_ sums: BandwidthSums, name: (Int32) -> ByteLine, protocolName: (UInt8) -> ByteLine) throws {
        for (statement, period) in tables {
            var rolled: [BandwidthKey: (bytes: Int64, hits: Int64)] = [:]
            rolled.reserveCapacity(sums.count)
            sums.forEach { key, bytes, hits in
                var k = key
                k.bucket = period(key.bucket)
                let old = rolled[k] ?? (0, 0)
                rolled[k] = (old.bytes &+ bytes, old.hits &+ hits)
            }
            for (key, sum) in rolled {
                statement.bind(1, name(key.user))
                statement.bind(2, name(key.domain))
                statement.bind(3, protocolName(key.protocolIndex))
                statement.bind(4, key.bucket)
                statement.bind(5, sum.bytes)
                statement.bind(6, sum.hits)
                try statement.run()
            }
        }
    }
}
