import Foundation
import GRDB

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
        let services = try GRDB.Row.fetchAll(
            db, sql: "SELECT service, status FROM service_state \(service == nil ? "" : "WHERE service = ?") ORDER BY service",
            arguments: service.map { [$0] } ?? [])
        return try services.map { row in
            let name: String = row["service"], status: String = row["status"]
            func uptime(_ seconds: Int64) throws -> Double? {
                try Double.fetchOne(
                    db, sql: "SELECT avg(passed) * 100.0 FROM service_checks WHERE service = ? AND time > ? AND time <= ?",
                    arguments: [name, now - seconds, now])
            }
            return Row(
                service: name, status: status, uptime24h: try uptime(86400), uptime7d: try uptime(7 * 86400), uptime30d: try uptime(30 * 86400),
                outages: try outages(db, service: name, from: since ?? now - 30 * 86400, until: until ?? now + 1))
        }
    }

    private static func outages(_ db: Database, service: String, from: Int64, until: Int64) throws -> [Outage] {
        let checks = try GRDB.Row.fetchCursor(
            db, sql: """
                SELECT time, passed, action, status, detail FROM service_checks
                WHERE service = ? AND time >= ? AND time < ? ORDER BY time, rowid
                """,
            arguments: [service, from, until])
        var found: [Outage] = []
        var open: Outage?
        while let check = try checks.next() {
            let restarted = (check["action"] as String?) == CheckRecord.Action.restart.rawValue
            guard let passed = check["passed"] as Int64? else { continue }
            if passed == 1 {
                if var ending = open {
                    ending.end = check["time"]
                    found.append(ending)
                    open = nil
                }
            } else if open == nil {
                open = Outage(start: check["time"], end: nil, cause: check["detail"], checks: 1, restarts: restarted ? 1 : 0)
            } else {
                open?.checks += 1
                if restarted { open?.restarts += 1 }
            }
            // A restart within the check brought it back: the outage ends there.
            if passed == 0, (check["status"] as String?) == ServiceStatus.up.rawValue, var ending = open {
                ending.end = check["time"]
                found.append(ending)
                open = nil
            }
        }
        if let open { found.append(open) }
        return found.reversed()
    }
}
