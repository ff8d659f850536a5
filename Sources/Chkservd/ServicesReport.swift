import Foundation
import GRDB
import TailWatchEngine

/// `tailwatch-report services`: per service, its current status and, over the range, how often it
/// was checked, failed, restarted, and the share of checks it passed.
///
/// The same SQL runs on this server's file and on the fleet's PostgreSQL (`ReportRows`), where
/// each row also names its server.
public enum ServicesReport {
    public struct Row: Equatable, Sendable {
        /// The server (fleet reports only).
        public var host: String?
        public var service: String
        public var status: String
        public var lastCheck: Int64?
        public var checks: Int64
        public var failures: Int64
        public var restarts: Int64
        /// Percent of the range's checks that passed (nil when none ran).
        public var uptime: Double?
    }

    public static func rows(_ db: Database, service: String?, since: Int64?, until: Int64?) throws -> [Row] {
        try rows(SQLiteReportRows(db), host: nil, service: service, since: since, until: until)
    }

    /// `host`: only that server (fleet only).
    public static func rows(_ source: some ReportRows, host: String?, service: String?, since: Int64?, until: Int64?) throws -> [Row] {
        let fleet = source.isFleet
        var conditions: [String] = []
        var arguments: [ReportValue] = []
        if let host, fleet { conditions.append("c.host = ?"); arguments.append(.text(host)) }
        if let service { conditions.append("c.service = ?"); arguments.append(.text(service)) }
        if let since { conditions.append("c.time >= ?"); arguments.append(.integer(since)) }
        if let until { conditions.append("c.time < ?"); arguments.append(.integer(until)) }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        var stateConditions: [String] = []
        if let host, fleet { stateConditions.append("s.host = ?"); arguments.append(.text(host)) }
        if let service { stateConditions.append("s.service = ?"); arguments.append(.text(service)) }
        let stateFilter = stateConditions.isEmpty ? "" : "WHERE " + stateConditions.joined(separator: " AND ")
        let hostColumn = fleet ? "c.host, " : ""
        let sql = """
            WITH checks AS (
                SELECT \(hostColumn)c.service, count(*) AS checks,
                       sum(CASE WHEN c.passed = 0 THEN 1 ELSE 0 END) AS failures,
                       sum(CASE WHEN c.action = 'restart' THEN 1 ELSE 0 END) AS restarts,
                       avg(c.passed) * 100.0 AS uptime
                FROM service_checks c \(filter) GROUP BY \(hostColumn)c.service
            )
            SELECT \(fleet ? "s.host" : "NULL"), s.service, s.status, s.last_check, coalesce(k.checks, 0), coalesce(k.failures, 0),
                   coalesce(k.restarts, 0), k.uptime
            FROM service_state s LEFT JOIN checks k ON k.service = s.service\(fleet ? " AND k.host = s.host" : "") \(stateFilter)
            ORDER BY \(fleet ? "s.host, " : "")s.service
            """
        return try source.fetch(sql, arguments).map { r in
            Row(host: fleet ? r[0].string : nil, service: r[1].string, status: r[2].string, lastCheck: r[3].optionalInt64,
                checks: r[4].int64, failures: r[5].int64, restarts: r[6].int64, uptime: r[7].double)
        }
    }
}
