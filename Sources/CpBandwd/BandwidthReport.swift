import Foundation
import GRDB

/// `tailwatch-report bandwidth`: bytes per account, domain and protocol, in total or per hour,
/// day or month (UTC).
///
/// Without a range the answer comes from the rollup of the asked resolution. With `--since` or
/// `--until` it comes from the coarsest rollup whose periods the range's ends fall on (daily for
/// whole days, hourly for whole hours, else the 5-minute table), so a range is resolved to
/// 5-minute buckets: a bucket counts when its start lies in the range.
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
        // The coarsest table whose periods the range's ends fall on: whole days read the daily
        // rollup, whole hours the hourly one, anything else the 5-minute table.
        let ends = [since, until].compactMap { $0 }
        let table: String
        switch (grouping, ranged) {
        case (.hour, false): table = "bandwidth_hourly"
        case (.day, false): table = "bandwidth_daily"
        case (.month, false), (.total, false): table = "bandwidth_monthly"
        case (.hour, true):
            table = ends.allSatisfy { $0 % 3600 == 0 } ? "bandwidth_hourly" : "bandwidth_5min"
        case (_, true):
            table = ends.allSatisfy { $0 % 86400 == 0 } ? "bandwidth_daily"
                : ends.allSatisfy { $0 % 3600 == 0 } ? "bandwidth_hourly" : "bandwidth_5min"
        }
        let period: String
        switch grouping {
        case .total: period = "NULL"
        case .hour: period = "(period - ((period % 3600) + 3600) % 3600)"
        case .day: period = "(period - ((period % 86400) + 86400) % 86400)"
        case .month: period = ranged ? "CAST(strftime('%s', period, 'unixepoch', 'start of month') AS INTEGER)" : "period"
        }
        // Only the filters given, written so that SQLite can use the primary key (user first).
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let user { conditions.append("user = ?"); arguments += [user] }
        if let domain { conditions.append("domain = ?"); arguments += [domain] }
        if let `protocol` { conditions.append("protocol = ?"); arguments += [`protocol`] }
        if let since { conditions.append("period >= ?"); arguments += [since] }
        if let until { conditions.append("period < ?"); arguments += [until] }
        let sql = """
            SELECT user, domain, protocol, \(period) AS p, SUM(bytes), SUM(hits) FROM \(table)
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            GROUP BY user, domain, protocol, p
            ORDER BY p, user, domain, protocol
            """
        return try GRDB.Row.fetchAll(db, sql: sql, arguments: arguments).map { r in
            Row(user: r[0], domain: r[1], protocol: r[2], period: r[3], bytes: r[4], hits: r[5])
        }
    }
}
