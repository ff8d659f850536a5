import Foundation
import GRDB
import TailWatchEngine

/// `tailwatch-report mail`: per sending account, messages sent, their bytes, and the deliveries,
/// failures and deferrals of those messages.
///
/// Whole hours come from the `mail_hourly` rollup; the ragged edges of a `--since`/`--until` that
/// does not fall on an hour are counted from the event tables, so the figures are exact for any
/// range and still fast for long ones.
public enum MailReport {
    public enum Grouping: String, Sendable, CaseIterable {
        case total, hour, day
    }

    /// The keys a row keeps (`--per`); the others are summed over, their value null.
    public enum Key: String, Sendable, CaseIterable {
        case host, user
    }

    public struct Row: Sendable, Equatable {
        /// The server, in the fleet's answers; nil in a server's own.
        public var host: String? = nil
        public var user: String
        /// Start of the hour or day (UTC); nil for totals.
        public var period: Int64?
        public var sent: Int64 = 0
        public var sentBytes: Int64 = 0
        public var delivered: Int64 = 0
        public var failed: Int64 = 0
        public var deferred: Int64 = 0

        public init(host: String? = nil, user: String, period: Int64?, sent: Int64 = 0, sentBytes: Int64 = 0, delivered: Int64 = 0, failed: Int64 = 0, deferred: Int64 = 0) {
            self.host = host
            self.user = user
            self.period = period
            self.sent = sent
            self.sentBytes = sentBytes
            self.delivered = delivered
            self.failed = failed
            self.deferred = deferred
        }
    }

    /// This server's answer, from its SQLite file.
    public static func rows(
        _ db: Database, user: String? = nil, domain: String? = nil, by grouping: Grouping = .total,
        since: Int64? = nil, until: Int64? = nil
    ) throws -> [Row] {
        try rows(SQLiteReportRows(db), user: user, domain: domain, by: grouping, since: since, until: until)
    }

    /// The answer from `source`: this server's file, or the fleet's PostgreSQL (optionally for
    /// one `host`). The fleet has the hourly rollup only, so there a range's ends widen to whole hours.
    public static func rows(
        _ source: some ReportRows, host: String? = nil, user: String? = nil, domain: String? = nil, by grouping: Grouping = .total,
        per keys: Set<Key> = Set(Key.allCases), since: Int64? = nil, until: Int64? = nil
    ) throws -> [Row] {
        var since = since, until = until
        if source.isFleet {
            since = since.map(floorHour)
            until = until.map(ceilHour)
        }
        let from = since ?? Int64.min / 2
        let to = until ?? Int64.max / 2
        guard from < to else { return [] }
        // Whole hours inside [from, to).
        let firstHour = ceilHour(from)
        let endHour = floorHour(to)
        var merged: [String: Row] = [:]
        func add(_ row: Row) {
            var row = row
            if !keys.contains(.user) { row.user = "" }
            let key = "\(row.host ?? "")\u{0}\(row.user)\u{0}\(row.period.map(String.init) ?? "")"
            var r = merged[key] ?? Row(host: row.host, user: row.user, period: row.period)
            r.sent += row.sent
            r.sentBytes += row.sentBytes
            r.delivered += row.delivered
            r.failed += row.failed
            r.deferred += row.deferred
            merged[key] = r
        }
        if firstHour < endHour {
            let period = periodSQL(grouping, column: "hour")
            // Only the filters given: a range reads just the hours it spans (SQLite's key leads with
            // the hour; the fleet's store has an index by user as well); an open end adds no bound.
            var conditions: [String] = []
            var arguments: [ReportValue] = []
            if let host { conditions.append("host = ?"); arguments.append(.text(host)) }
            if since != nil { conditions.append("hour >= ?"); arguments.append(.integer(firstHour)) }
            if until != nil { conditions.append("hour < ?"); arguments.append(.integer(endHour)) }
            if let user { conditions.append("\"user\" = ?"); arguments.append(.text(user)) }
            if let domain { conditions.append("domain = ?"); arguments.append(.text(domain)) }
            // Kept keys are grouped by; a key summed over reads as NULL.
            let hostColumn = source.isFleet ? (keys.contains(.host) ? "host, " : "NULL, ") : ""
            let userColumn = keys.contains(.user) ? "\"user\"" : "NULL"
            let groups = (source.isFleet && keys.contains(.host) ? ["host"] : []) + (keys.contains(.user) ? ["\"user\""] : []) + ["period"]
            let sql = """
                SELECT \(hostColumn)\(userColumn), \(period) AS period, SUM(sent), SUM(sent_bytes), SUM(delivered), SUM(failed), SUM(deferred)
                FROM mail_hourly \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
                GROUP BY \(groups.joined(separator: ", "))
                """
            let first = source.isFleet ? 1 : 0
            for r in try source.fetch(sql, arguments) {
                add(Row(host: source.isFleet ? r[0].string : nil, user: r[first].string, period: r[first + 1].optionalInt64,
                        sent: r[first + 2].int64, sentBytes: r[first + 3].int64, delivered: r[first + 4].int64,
                        failed: r[first + 5].int64, deferred: r[first + 6].int64))
            }
        }
        // The ragged ends of a range, counted from the event tables (kept only on the server).
        if let local = source as? SQLiteReportRows {
            if firstHour < endHour {
                for edge in [(from, firstHour), (endHour, to)] where edge.0 < edge.1 {
                    try rawRows(local.db, from: edge.0, to: edge.1, user: user, domain: domain, grouping: grouping).forEach(add)
                }
            } else {
                try rawRows(local.db, from: from, to: to, user: user, domain: domain, grouping: grouping).forEach(add)
            }
        }
        return merged.values.sorted { ($0.period ?? 0, $0.host ?? "", $0.user) < ($1.period ?? 0, $1.host ?? "", $1.user) }
    }

    /// Start of the UTC hour holding `t` (also before 1970).
    @inline(__always) static func floorHour(_ t: Int64) -> Int64 { t - ((t % 3600) + 3600) % 3600 }
    static func ceilHour(_ t: Int64) -> Int64 { let f = floorHour(t); return f == t ? t : f + 3600 }

    private static func periodSQL(_ grouping: Grouping, column: String) -> String {
        switch grouping {
        case .total: "NULL"
        case .hour: "(\(column) - ((\(column) % 3600) + 3600) % 3600)"
        case .day: "(\(column) - ((\(column) % 86400) + 86400) % 86400)"
        }
    }

    /// Counts straight from the event tables for `[from, to)`.
    private static func rawRows(_ db: Database, from: Int64, to: Int64, user: String?, domain: String?, grouping: Grouping) throws -> [Row] {
        let period = periodSQL(grouping, column: "(id >> 20)")
        // Row ids are keyed by time (see TimeKeyedIDs): the primary key finds the range.
        let filter = """
            id >= ?1 AND id < ?2 AND (?3 IS NULL OR user = (SELECT id FROM mail_names WHERE name = ?3))
            AND (?4 IS NULL OR domain = (SELECT id FROM mail_names WHERE name = ?4))
            """
        let sql = """
            SELECT (SELECT name FROM mail_names WHERE id = user), period, SUM(sent), SUM(sent_bytes), SUM(delivered), SUM(failed), SUM(deferred) FROM (
                SELECT user, \(period) AS period, 1 AS sent, size AS sent_bytes, 0 AS delivered, 0 AS failed, 0 AS deferred FROM mail_arrivals WHERE \(filter)
                UNION ALL SELECT user, \(period), 0, 0, kind <= 3, kind = 4, kind = 5 FROM mail_deliveries WHERE \(filter)
            ) GROUP BY user, period
            """
        let ids = TimeKeyedIDs.range(from: from, to: to)
        return try GRDB.Row.fetchAll(db, sql: sql, arguments: [ids.lower, ids.upper, user, domain]).map { r in
            Row(user: r[0], period: r[1], sent: r[2], sentBytes: r[3], delivered: r[4], failed: r[5], deferred: r[6])
        }
    }
}
