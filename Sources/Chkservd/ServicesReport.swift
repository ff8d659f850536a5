import Foundation
import GRDB

/// `tailwatch-report services`: per service, its current status and, over the range, how often it
/// was checked, failed, restarted, and the share of checks it passed.
public enum ServicesReport {
    public struct Row: Equatable, Sendable {
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
        var conditions: [String] = []
        var arguments: [DatabaseValueConvertible] = []
        if let service { conditions.append("c.service = ?"); arguments.append(service) }
        if let since { conditions.append("c.time >= ?"); arguments.append(since) }
        if let until { conditions.append("c.time < ?"); arguments.append(until) }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let stateFilter = service == nil ? "" : "WHERE s.service = ?"
        if let service { arguments.append(service) }
        let sql = """
            WITH checks AS (
                SELECT c.service, count(*) AS checks,
                       sum(c.passed = 0) AS failures,
                       sum(c.action = 'restart') AS restarts,
                       avg(c.passed) * 100.0 AS uptime
                FROM service_checks c \(filter) GROUP BY c.service
            )
            SELECT s.service, s.status, s.last_check, coalesce(k.checks, 0) AS checks, coalesce(k.failures, 0) AS failures,
                   coalesce(k.restarts, 0) AS restarts, k.uptime
            FROM service_state s LEFT JOIN checks k ON k.service = s.service \(stateFilter)
            ORDER BY s.service
            """
        return try GRDB.Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { r in
            Self.Row(service: r["service"], status: r["status"], lastCheck: r["last_check"], checks: r["checks"],
                     failures: r["failures"], restarts: r["restarts"], uptime: r["uptime"])
        }
    }
}
