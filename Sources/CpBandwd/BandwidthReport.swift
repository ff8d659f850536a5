import Foundation
import GRDB
import TailWatchEngine

/// `tailwatch-report bandwidth`: bytes per account, domain and protocol, in total or per hour,
/// day or month (UTC).
///
/// Without a range the answer comes from the rollup of the asked resolution. With `--since` or
/// `--until`, the whole days and hours inside the range come from their rollups and only its
/// ragged ends from the 5-minute table, so a range is resolved to 5-minute buckets (a bucket
/// counts when its start lies in the range) and only those ends depend on `keep_5min_days`.
public enum BandwidthReport {
    public enum Grouping: String, Sendable, CaseIterable {
        case total, hour, day, month
    }

    /// The key columns a row keeps (`--per`); the others are summed over, their value null. Fewer
    /// rows when only totals are wanted: a chart per protocol, a fleet's total per day.
    public enum Key: String, Sendable, CaseIterable {
        case host, user, domain, `protocol`
    }

    public struct Row: Sendable, Equatable {
        /// The server, in the fleet's answers; nil in a server's own.
        public var host: String? = nil
        public var user: String
        public var domain: String
        public var `protocol`: String
        public var period: Int64?
        public var bytes: Int64
        public var hits: Int64

        public init(host: String? = nil, user: String, domain: String, protocol: String, period: Int64?, bytes: Int64, hits: Int64) {
            self.host = host
            self.user = user
            self.domain = domain
            self.protocol = `protocol`
            self.period = period
            self.bytes = bytes
            self.hits = hits
        }
    }

    /// This server's answer, from its SQLite file.
    public static func rows(
        _ db: Database, user: String? = nil, domain: String? = nil, protocol: String? = nil,
        by grouping: Grouping = .total, since: Int64? = nil, until: Int64? = nil
    ) throws -> [Row] {
        try rows(SQLiteReportRows(db), user: user, domain: domain, protocol: `protocol`, by: grouping, since: since, until: until)
    }

    /// The answer from `source`: this server's file, or the fleet's PostgreSQL (optionally for
    /// one `host`). The fleet keeps no 5-minute rows, so there a range's ends widen to whole hours.
    public static func rows(
        _ source: some ReportRows, host: String? = nil, user: String? = nil, domain: String? = nil, protocol: String? = nil,
        by grouping: Grouping = .total, per keys: Set<Key> = Set(Key.allCases), since: Int64? = nil, until: Int64? = nil
    ) throws -> [Row] {
        var since = since, until = until
        if source.isFleet {
            since = since.map { floor($0, 3600) }
            until = until.map { ceil($0, 3600) }
        }
        let filters = Filters(host: host, user: user, domain: domain, protocol: `protocol`, keys: keys)
        guard since != nil || until != nil else {
            let table = switch grouping {
            case .hour: "bandwidth_hourly"
            case .day: "bandwidth_daily"
            case .month, .total: "bandwidth_monthly"
            }
            return sorted(try query(source, table: table, filters, by: grouping, from: nil, to: nil))
        }
        // Whole hours (or days) from their rollup, which is kept; only the ragged ends of the range
        // come from the 5-minute table, which is kept `keep_5min_days`.
        let from = since ?? Int64.min / 2, to = until ?? Int64.max / 2
        guard from < to else { return [] }
        let firstHour = ceil(from, 3600), endHour = floor(to, 3600)
        var parts: [(table: String, from: Int64, to: Int64)] = []
        if firstHour < endHour {
            // Whole days inside the whole hours from the daily rollup (unless hours are asked for),
            // the hours around them from the hourly one: `--since 7d` reads six days and two
            // partial days of hours, not 168 hours of every account.
            let firstDay = ceil(firstHour, 86400), endDay = floor(endHour, 86400)
            if grouping != .hour && firstDay < endDay {
                parts.append(("bandwidth_daily", firstDay, endDay))
                if firstHour < firstDay { parts.append(("bandwidth_hourly", firstHour, firstDay)) }
                if endDay < endHour { parts.append(("bandwidth_hourly", endDay, endHour)) }
            } else {
                parts.append(("bandwidth_hourly", firstHour, endHour))
            }
            // (The fleet's ends are whole hours already; it has no 5-minute table.)
            if from < firstHour && !source.isFleet { parts.append(("bandwidth_5min", from, firstHour)) }
            if endHour < to && !source.isFleet { parts.append(("bandwidth_5min", endHour, to)) }
        } else {
            parts.append(("bandwidth_5min", from, to))
        }
        var merged: [String: Row] = [:]
        for part in parts {
            for row in try query(source, table: part.table, filters, by: grouping, from: part.from, to: part.to) {
                let key = "\(row.host ?? "")\u{0}\(row.user)\u{0}\(row.domain)\u{0}\(row.protocol)\u{0}\(row.period.map(String.init) ?? "")"
                if var existing = merged[key] {
                    existing.bytes &+= row.bytes
                    existing.hits &+= row.hits
                    merged[key] = existing
                } else {
                    merged[key] = row
                }
            }
        }
        return sorted(Array(merged.values))
    }

    /// In time, then server, account, domain and protocol: the same order from either store.
    static func sorted(_ rows: [Row]) -> [Row] {
        rows.sorted {
            ($0.period ?? 0, $0.host ?? "", $0.user, $0.domain, $0.protocol) < ($1.period ?? 0, $1.host ?? "", $1.user, $1.domain, $1.protocol)
        }
    }

    static func floor(_ t: Int64, _ step: Int64) -> Int64 { t - ((t % step) + step) % step }
    static func ceil(_ t: Int64, _ step: Int64) -> Int64 { let f = floor(t, step); return f == t ? t : f + step }

    struct Filters {
        var host, user, domain, `protocol`: String?
        var keys: Set<Key>
    }

    /// One table, grouped as asked, with only the filters given (so the store can use its keys:
    /// the user first in the rollups, the period first in the 5-minute table).
    private static func query(
        _ source: some ReportRows, table: String, _ filters: Filters, by grouping: Grouping, from: Int64?, to: Int64?
    ) throws -> [Row] {
        let period: String
        switch grouping {
        case .total: period = "NULL"
        case .hour: period = "(period - ((period % 3600) + 3600) % 3600)"
        case .day: period = "(period - ((period % 86400) + 86400) % 86400)"
        case .month: period = table == "bandwidth_monthly" ? "period" : source.monthStart("period")
        }
        var conditions: [String] = []
        var arguments: [ReportValue] = []
        if let host = filters.host { conditions.append("host = ?"); arguments.append(.text(host)) }
        if let user = filters.user { conditions.append("\"user\" = ?"); arguments.append(.text(user)) }
        if let domain = filters.domain { conditions.append("domain = ?"); arguments.append(.text(domain)) }
        if let proto = filters.protocol { conditions.append("protocol = ?"); arguments.append(.text(proto)) }
        if let from { conditions.append("period >= ?"); arguments.append(.integer(from)) }
        if let to { conditions.append("period < ?"); arguments.append(.integer(to)) }
        // The kept keys, in the table's key order; a key summed over reads as NULL.
        let kept: [(key: Key, column: String)] = [(.host, "host"), (.user, "\"user\""), (.domain, "domain"), (.protocol, "protocol")]
            .filter { ($0.key != .host || source.isFleet) && filters.keys.contains($0.key) }
        let select = [Key.host, .user, .domain, .protocol].filter { $0 != .host || source.isFleet }.map { key in
            kept.first { $0.key == key }?.column ?? "NULL"
        }
        let sql = """
            SELECT \(select.joined(separator: ", ")), \(period) AS p, SUM(bytes), SUM(hits) FROM \(table)
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            GROUP BY \((kept.map(\.column) + ["p"]).joined(separator: ", "))
            """
        let first = source.isFleet ? 1 : 0
        return try source.fetch(sql, arguments).map { r in
            Row(host: source.isFleet ? r[0].string : nil, user: r[first].string, domain: r[first + 1].string, protocol: r[first + 2].string,
                period: r[first + 3].optionalInt64, bytes: r[first + 4].int64, hits: r[first + 5].int64)
        }
    }
}
