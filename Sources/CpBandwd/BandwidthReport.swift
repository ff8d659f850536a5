import Foundation
import GRDB

/// `tailwatch-report bandwidth`: bytes per account, domain and protocol, in total or per hour,
/// day or month (UTC).
///
/// Without a range the answer comes from the rollup of the asked resolution. With `--since` or
/// `--until` it comes from the 5-minute table, so a range is resolved to 5-minute buckets: a
/// bucket counts when its start lies in the range.
public enum BandwidthReport {
    public enum Grouping: String, Sendable, CaseIterable {
        case total, hour, day, month
    }

    public struct Row: Sendable, Equatable {
        public var user: String
        public var domain: String
        public var `protocol`: String
        public var period: Int64?
        public var bytes: Int64
        public var hits: Int64

        public init(user: String, domain: String, protocol: String, period: Int64?, bytes: Int64, hits: Int64) {
            self.user = user
            self.domain = domain
            self.protocol = `protocol`
            self.period = period
            self.bytes = bytes
            self.hits = hits
        }
    }

    public static func rows(
        _ db: Database, user: String? = nil, domain: String? = nil, protocol: String? = nil,
        by grouping: Grouping = .total, since: Int64? = nil, until: Int64? = nil
    ) throws -> [Row] {
        let ranged = since != nil || until != nil
        let table: String
        let period: String
        switch (grouping, ranged) {
        case (_, true): table = "bandwidth_5min"
        case (.hour, false): table = "bandwidth_hourly"
        case (.day, false): table = "bandwidth_daily"
        case (.month, false), (.total, false): table = "bandwidth_monthly"
        }
        switch grouping {
        case .total: period = "NULL"
        case .hour: period = "(period - ((period % 3600) + 3600) % 3600)"
        case .day: period = "(period - ((period % 86400) + 86400) % 86400)"
        case .month: period = ranged ? "CAST(strftime('%s', period, 'unixepoch', 'start of month') AS INTEGER)" : "period"
        }
        let sql = """
            SELECT user, domain, protocol, \(period) AS p, SUM(bytes), SUM(hits) FROM \(table)
            WHERE (?1 IS NULL OR user = ?1) AND (?2 IS NULL OR domain = ?2) AND (?3 IS NULL OR protocol = ?3)
              AND period >= ?4 AND period < ?5
            GROUP BY user, domain, protocol, p
            ORDER BY p, user, domain, protocol
            """
        let arguments: StatementArguments = [user, domain, `protocol`, since ?? Int64.min, until ?? Int64.max]
        return try GRDB.Row.fetchAll(db, sql: sql, arguments: arguments).map { r in
            Row(user: r[0], domain: r[1], protocol: r[2], period: r[3], bytes: r[4], hits: r[5])
        }
    }
}
