import Foundation
import GRDB

/// What an operator opens when the server starts spamming: who sends the most (`mail top-senders`)
/// and which domains are at or near their hourly limit (`mail limits`).
public enum OutbreakReport {
    /// One of the top senders by account, domain, authenticated identity or client IP.
    public struct Sender: Sendable, Equatable {
        public var kind: String
        public var name: String
        public var messages: Int64
        public var recipients: Int64
        public var failures: Int64
        /// The domain's hourly limit (domains only; nil when unlimited).
        public var limit: Int64?
        /// This hour's deliveries to remote hosts as a percentage of the limit.
        public var used: Double?
    }

    /// Each kind's name for an arrival row `a` (account, domain and authenticator are ids into `mail_names`).
    public static let kinds: [(name: String, column: String)] = [
        ("user", "(SELECT name FROM mail_names WHERE id = a.user)"),
        ("domain", "(SELECT lower(name) FROM mail_names WHERE id = a.domain)"),
        ("auth", "(SELECT CASE WHEN instr(name, ':') = 0 THEN NULL ELSE substr(name, instr(name, ':') + 1) END FROM mail_names WHERE id = a.auth)"),
        ("ip", "a.ip"),
    ]

    /// The `limit` biggest senders of each kind among messages that local accounts sent in
    /// [since, until) (mail arriving from elsewhere, `-remote-`, is not an outbreak of ours).
    public static func topSenders(_ db: Database, since: Int64, until: Int64, limit: Int, sendLimits: SendLimits, now: Int64) throws -> [Sender] {
        let (lower, upper) = TimeKeyedIDs.range(from: since, to: until)
        let usage = try hourUsage(db, hour: MailReport.floorHour(now))
        var result: [Sender] = []
        for (kind, column) in kinds {
            let rows = try Row.fetchAll(db, sql: """
                WITH m AS (
                    SELECT \(column) AS name, count(*) AS messages, sum(a.recipients) AS recipients
                    FROM mail_arrivals a WHERE a.id >= ? AND a.id < ? AND a.user IS NOT (SELECT id FROM mail_names WHERE name = '-remote-') GROUP BY 1
                ), f AS (
                    SELECT \(column) AS name, count(*) AS failures
                    FROM mail_deliveries x JOIN mail_arrivals a ON a.msgid = x.msgid
                    WHERE x.kind = 4 AND x.id >= ? AND x.id < ? AND a.user IS NOT (SELECT id FROM mail_names WHERE name = '-remote-') GROUP BY 1
                )
                SELECT m.name, m.messages, m.recipients, coalesce(f.failures, 0) AS failures
                FROM m LEFT JOIN f ON f.name = m.name
                WHERE m.name IS NOT NULL AND m.name <> ''
                ORDER BY m.messages DESC, failures DESC, m.name LIMIT ?
                """, arguments: [lower, upper, lower, upper, limit])
            for row in rows {
                var sender = Sender(kind: kind, name: row["name"], messages: row["messages"], recipients: row["recipients"], failures: row["failures"])
                if kind == "domain" {
                    let max = sendLimits.limit(for: sender.name).maxPerHour
                    if max > 0 {
                        sender.limit = Int64(max)
                        sender.used = Double(usage[sender.name]?.remote ?? 0) * 100 / Double(max)
                    }
                }
                result.append(sender)
            }
        }
        return result
    }

    /// A domain's standing this hour.
    public struct DomainStanding: Sendable, Equatable {
        public var domain: String
        public var hour: Int64
        public var deliveries: Int64
        public var limit: Int64?
        public var used: Double?
        public var messages: Int64
        public var deferFail: Int64
        public var deferFailPercent: Double?
        /// `over` (a limit reached), `near` (80 % of one), else `ok`.
        public var status: String
    }

    /// Every domain at or near a limit this hour (or that reached one earlier in the hour).
    public static func limits(_ db: Database, sendLimits: SendLimits, now: Int64) throws -> [DomainStanding] {
        let hour = MailReport.floorHour(now)
        let usage = try hourUsage(db, hour: hour)
        let reached = Set(try String.fetchAll(db, sql: "SELECT domain FROM send_limit_events WHERE hour = ?", arguments: [hour]))
        var result: [DomainStanding] = []
        for (domain, counts) in usage {
            let limit = sendLimits.limit(for: domain)
            let breaches = SendLimitEnforcer.breaches(counts, limit)
            let used = limit.maxPerHour > 0 ? Double(counts.remote) * 100 / Double(limit.maxPerHour) : nil
            let share = SendLimitEnforcer.deferFailShare(counts)
            let nearEmails = (used ?? 0) >= 80
            let nearDeferFail = limit.maxDeferFailPercent > 0 && counts.deferFail >= Int64(max(1, limit.minDeferFail)) && (share ?? 100) >= Double(limit.maxDeferFailPercent) * 0.8
            let status = !breaches.isEmpty ? "over" : (nearEmails || nearDeferFail) ? "near" : "ok"
            guard status != "ok" || reached.contains(domain) else { continue }
            result.append(DomainStanding(
                domain: domain, hour: hour, deliveries: counts.remote, limit: limit.maxPerHour > 0 ? Int64(limit.maxPerHour) : nil,
                used: used, messages: counts.sent, deferFail: counts.deferFail, deferFailPercent: share, status: status))
        }
        return result.sorted { ($0.status == "over" ? 0 : $0.status == "near" ? 1 : 2, -($0.used ?? 0), $0.domain) < ($1.status == "over" ? 0 : $1.status == "near" ? 1 : 2, -($1.used ?? 0), $1.domain) }
    }

    /// The enforced counts of `hour` per domain, from the rollup (as the driver seeds them).
    static func hourUsage(_ db: Database, hour: Int64) throws -> [String: SendLimitEnforcer.Counts] {
        var usage: [String: SendLimitEnforcer.Counts] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT lower(domain) AS domain, sum(sent) AS sent, sum(remote_delivered) AS remote, sum(deferred + failed) AS deferfail
            FROM mail_hourly WHERE hour = ? AND user <> '-remote-' AND domain <> '' GROUP BY lower(domain)
            """, arguments: [hour]) {
            usage[row["domain"]] = SendLimitEnforcer.Counts(remote: row["remote"], sent: row["sent"], deferFail: row["deferfail"])
        }
        return usage
    }
}
