import Foundation
import GRDB

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
        guard since != nil || until != nil else {
            let table = switch grouping {
            case .hour: "bandwidth_hourly"
            case .day: "bandwidth_daily"
            case .month, .total: "bandwidth_monthly"
            }
            return try query(db, table: table, user: user, domain: domain, protocol: `protocol`, by: grouping, from: nil, to: nil)
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
            if from < firstHour { parts.append(("bandwidth_5min", from, firstHour)) }
            if endHour < to { parts.append(("bandwidth_5min", endHour, to)) }
        } else {
            parts.append(("bandwidth_5min", from, to))
        }
        var merged: [String: Row] = [:]
        for part in parts {
            for row in try query(db, table: part.table, user: user, domain: domain, protocol: `protocol`, by: grouping, from: part.from, to: part.to) {
                let key = "\(row.user)\u{0}\(row.domain)\u{0}\(row.protocol)\u{0}\(row.period.map(String.init) ?? "")"
                if var existing = merged[key] {
                    existing.bytes &+= row.bytes
                    existing.hits &+= row.hits
                    merged[key] = existing
                } else {
                    merged[key] = row
                }
            }
        }
        return merged.values.sorted { ($0.period ?? 0, $0.user, $0.domain, $0.protocol) < ($1.period ?? 0, $1.user, $1.domain, $1.protocol) }
    }

    static func floor(_ t: Int64, _ step: Int64) -> Int64 { t - ((t % step) + step) % step }
    static func ceil(_ t: Int64, _ step: Int64) -> Int64 { let f = floor(t, step); return f == t ? t : f + step }

    /// One table, grouped as asked, with only the filters given (so SQLite can use the primary
    /// key: the user first in the rollups, the period first in the 5-minute table).
    private static func query(
        _ db: Database, table: String, user: String?, domain: String?, protocol: String?,
        by grouping: Grouping, from: Int64?, to: Int64?
    ) throws -> [Row] {
        let period: String
        switch grouping {
        case .total: period = "NULL"
        case .hour: period = "(period - ((period % 3600) + 3600) % 3600)"
        case .day: period = "(period - ((period % 86400) + 86400) % 86400)"
        case .month: period = table == "bandwidth_monthly" ? "period" : "CAST(strftime('%s', period, 'unixepoch', 'start of month') AS INTEGER)"
        }
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let user { conditions.append("user = ?"); arguments += [user] }
        if let domain { conditions.append("domain = ?"); arguments += [domain] }
        if let `protocol` { conditions.append("protocol = ?"); arguments += [`protocol`] }
        if let from { conditions.append("period >= ?"); arguments += [from] }
        if let to { conditions.append("period < ?"); arguments += [to] }
        let sql = """
            SELECT user, domain, protocol, \(period) AS p, SUM(bytes), SUM(hits) FROM \(table)
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            GROUP BY user, domain, protocol, p
            """
        return try GRDB.Row.fetchAll(db, sql: sql, arguments: arguments).map { r in
            Row(user: r[0], domain: r[1], protocol: r[2], period: r[3], bytes: r[4], hits: r[5])
        }
    }
}
