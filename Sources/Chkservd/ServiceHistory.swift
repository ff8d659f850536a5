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

    /// The same from either store; `host`: only that server (fleet only).
    public static func report(
        _ source: some ReportRows, host: String?, service: String?, now: Int64, since: Int64? = nil, until: Int64? = nil
    ) throws -> [Row] {
        let fleet = source.isFleet
        var conditions: [String] = []
        var arguments: [ReportValue] = []
        if let host, fleet { conditions.append("host = ?"); arguments.append(.text(host)) }
        if let service { conditions.append("service = ?"); arguments.append(.text(service)) }
        let services = try source.fetch(
            "SELECT \(fleet ? "host" : "NULL"), service, status FROM service_state"
                + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
                + " ORDER BY \(fleet ? "host, " : "")service",
            arguments)
        return try services.map { row in
            let server = fleet ? row[0].string : nil, name = row[1].string
            // One service of one server: its host is a condition only in the fleet.
            let key = (fleet ? "host = ? AND " : "") + "service = ?"
            let keyArguments: [ReportValue] = (server.map { [.text($0)] } ?? []) + [.text(name)]
            func uptime(_ seconds: Int64) throws -> Double? {
                try source.fetch(
                    "SELECT avg(passed) * 100.0 FROM service_checks WHERE \(key) AND time > ? AND time <= ?",
                    keyArguments + [.integer(now - seconds), .integer(now)]).first?.first?.double
            }
            let checks = try source.fetch(
                "SELECT time, passed, action, status, detail FROM service_checks WHERE \(key) AND time >= ? AND time < ? ORDER BY time, \(fleet ? "id" : "rowid")",
                keyArguments + [.integer(since ?? now - 30 * 86400), .integer(until ?? now + 1)])
            return Row(
                host: server, service: name, status: row[2].string,
                uptime24h: try uptime(86400), uptime7d: try uptime(7 * 86400), uptime30d: try uptime(30 * 86400),
                outages: outages(checks))
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
