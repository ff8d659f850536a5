import Foundation
import GRDB
import TailWatchEngine

/// `tailwatch-report services --history`: per service, the share of checks it passed over the
/// last 24 hours, 7 days and 30 days, and its outages, worked out from `service_checks`.
///
/// An outage starts at the first failed check after a passed one (or the first check ever) and
/// ends at the next passed check, or at the failed check whose restart brought it back (nil: still
/// going on). Checks that did not run (grace, hung)
/// neither start nor end one. Its cause is what the first failed check saw; `restarts` counts the
/// restarts made during it.
public enum ServiceHistory {
    public struct Outage: Equatable, Sendable {
        public var start: Int64
        public var end: Int64?
        public var cause: String
        /// Failed checks during it.
        public var checks: Int64
        public var restarts: Int64
    }

    public struct Row: Equatable, Sendable {
        /// The server (fleet reports only).
        public var host: String?
        public var service: String
        public var status: String
        /// Percent of checks passed (nil when none ran in the window).
        public var uptime24h: Double?
        public var uptime7d: Double?
        public var uptime30d: Double?
        /// Newest first.
        public var outages: [Outage]
    }

    /// `now`: the end of the windows (unix seconds, included); outages are listed from `since`
    /// (default: 30 days back) to before `until` (default: all up to `now`).
    public static func report(_ db: Database, service: String?, now: Int64, since: Int64? = nil, until: Int64? = nil) throws -> [Row] {
        try report(SQLiteReportRows(db), host: nil, service: service, now: now, since: since, until: until)
    }

    /// The same from either store; `host`: only that server (fleet only). Three queries whatever
    /// the number of services and servers: their states, their uptimes (one pass over 30 days),
    /// and the checks that matter to outages (the failed ones and each first pass after one).
    public static func report(
        _ source: some ReportRows, host: String?, service: String?, now: Int64, since: Int64? = nil, until: Int64? = nil
    ) throws -> [Row] {
        let fleet = source.isFleet
        var conditions: [String] = []
        var filter: [ReportValue] = []
        if let host, fleet { conditions.append("host = ?"); filter.append(.text(host)) }
        if let service { conditions.append("service = ?"); filter.append(.text(service)) }
        let and = conditions.map { " AND " + $0 }.joined()
        let server = fleet ? "host" : "NULL"
        let perService = fleet ? "host, service" : "service"
        let order = fleet ? "id" : "rowid"
        func name(_ row: [ReportValue]) -> String { row[0].string + "\u{0}" + row[1].string }

        let services = try source.fetch(
            "SELECT \(server), service, status FROM service_state WHERE 1 = 1\(and) ORDER BY \(perService)", filter)
        var uptimes: [String: [Double?]] = [:]
        for row in try source.fetch("""
            SELECT \(server), service, avg(CASE WHEN time > ? THEN passed END) * 100.0, avg(CASE WHEN time > ? THEN passed END) * 100.0,
                   avg(passed) * 100.0
            FROM service_checks WHERE time > ? AND time <= ?\(and) GROUP BY \(perService)
            """, [.integer(now - 86400), .integer(now - 7 * 86400), .integer(now - 30 * 86400), .integer(now)] + filter) {
            uptimes[name(row)] = [row[2].double, row[3].double, row[4].double]
        }
        // Checks that did not run (passed NULL) neither start nor end an outage, so they are left
        // out before each check is compared with the one before it.
        var checks: [String: [[ReportValue]]] = [:]
        for row in try source.fetch("""
            SELECT \(server), service, time, passed, action, status, detail FROM (
                SELECT \(fleet ? "host, " : "")service, time, passed, action, status, detail, \(order) AS k,
                       LAG(passed) OVER (PARTITION BY \(perService) ORDER BY time, \(order)) AS before
                FROM service_checks WHERE passed IS NOT NULL AND time >= ? AND time < ?\(and)
            ) AS c WHERE passed = 0 OR before = 0 ORDER BY \(perService), time, k
            """, [.integer(since ?? now - 30 * 86400), .integer(until ?? now + 1)] + filter) {
            checks[name(row), default: []].append(Array(row[2...]))
        }
        return services.map { row in
            let uptime = uptimes[name(row)] ?? [nil, nil, nil]
            return Row(
                host: fleet ? row[0].string : nil, service: row[1].string, status: row[2].string,
                uptime24h: uptime[0], uptime7d: uptime[1], uptime30d: uptime[2], outages: outages(checks[name(row)] ?? []))
        }
    }

    /// `checks`: time, passed, action, status, detail, in the order they ran.
    private static func outages(_ checks: [[ReportValue]]) -> [Outage] {
        var found: [Outage] = []
        var open: Outage?
        for check in checks {
            let time = check[0].int64
            let restarted = check[2].string == CheckRecord.Action.restart.rawValue
            guard let passed = check[1].optionalInt64 else { continue }
            if passed == 1 {
                if var ending = open {
                    ending.end = time
                    found.append(ending)
                    open = nil
                }
            } else if open == nil {
                open = Outage(start: time, end: nil, cause: check[4].string, checks: 1, restarts: restarted ? 1 : 0)
            } else {
                open?.checks += 1
                if restarted { open?.restarts += 1 }
            }
            // A restart within the check brought it back: the outage ends there.
            if passed == 0, check[3].string == ServiceStatus.up.rawValue, var ending = open {
                ending.end = time
                found.append(ending)
                open = nil
            }
        }
        if let open { found.append(open) }
        return found.reversed()
    }
}
