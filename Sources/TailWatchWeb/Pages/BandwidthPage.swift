import Foundation
import TailWatchComposition
import TailWatchEngine

/// `/bandwidth`: WHM's "View Bandwidth Usage" — per account this month its domains, bytes, limit
/// and usage bar, with month navigation; `?user=` drills down to one account's days and hours per
/// protocol. Months are UTC, as in `tailwatch-report bandwidth --by month`.
struct BandwidthPage {
    let app: WebApp
    let request: HTTPRequest
    let now: Int64

    func render() throws(WebFailure) -> (title: String, html: String) {
        var inMonth = now
        if let text = request.parameter("month") {
            guard let t = WebApp.parseMonth(text) else { throw WebFailure(response: .text(400, "month must be YYYY-MM, not '\(ReportTable.printable(text))'")) }
            inMonth = t
        }
        let month = WebApp.month(containing: inMonth)
        let range: [(name: String, value: String)] = [("since", WebApp.day(month.start)), ("until", WebApp.day(month.next))]
        let user = request.parameter("user").flatMap { $0.isEmpty ? nil : $0 }
        let userFilter: [(name: String, value: String)] = user.map { [("user", $0)] } ?? []
        // The chart needs a total per day and protocol, the table one per account and domain: two
        // small answers summed by SQLite, not every account's every day.
        let daily = try app.table(["bandwidth"], [("by", "day"), ("per", "protocol")] + range + userFilter)
        var html = navigation(month, user: user)
        let days = Array(stride(from: month.start, to: month.next, by: 86400))
        html += "<section>" + chart(daily, title: "Bytes per day, \(month.label) (UTC)", slots: days, zone: nil) + "</section>"
        if let user {
            let hourly = try app.table(["bandwidth"], [("user", user), ("by", "hour"), ("since", "24h")])
            let thisHour = now - now % 3600
            let hours = Array(stride(from: thisHour - 23 * 3600, through: thisHour, by: 3600))
            html += "<section>" + chart(hourly, title: "Bytes per hour, last 24 hours", slots: hours, zone: app.zone) + "</section>"
            let totals = try app.table(["bandwidth"], [("user", user)] + range)
            html += "<section><h2>\(HTML.escape(user)): domains and protocols, \(month.label)</h2>" + HTMLTable.render(totals, zone: app.zone) + "</section>"
            return ("Bandwidth: \(user)", html)
        }
        let accountsTable = try app.table(["bandwidth"], [("per", "user,domain")] + range)
        html += "<section><h2>Accounts, \(month.label)</h2>" + accounts(accountsTable, month: month.label) + "</section>"
        return ("Bandwidth", html)
    }

    private func navigation(_ month: (start: Int64, next: Int64, label: String), user: String?) -> String {
        let previous = WebApp.month(containing: month.start - 1)
        var links = "<a href=\"/bandwidth\(HTML.query([("user", user), ("month", previous.label)]))\">← \(previous.label)</a><strong>\(month.label)</strong>"
        if month.next <= now {
            let next = WebApp.month(containing: month.next)
            links += "<a href=\"/bandwidth\(HTML.query([("user", user), ("month", next.label)]))\">\(next.label) →</a>"
        }
        if user != nil { links += "<a href=\"/bandwidth\(HTML.query([("month", month.label)]))\">all accounts</a>" }
        return "<nav class=\"months\">\(links)</nav>"
    }

    /// The WHM table: one row per account, its domains, bytes, limit and usage.
    private func accounts(_ perDomain: ReportTable, month: String) -> String {
        var byUser: [String: (domains: Set<String>, bytes: Int64)] = [:]
        for row in perDomain.rows {
            let user = perDomain.text(row, "user")
            byUser[user, default: ([], 0)].domains.insert(perDomain.text(row, "domain"))
            byUser[user, default: ([], 0)].bytes += perDomain.integer(row, "bytes")
        }
        guard !byUser.isEmpty else { return "<p class=\"empty\">No bandwidth recorded in \(month).</p>" }
        let limits = UsageBar.limits(app.context.loaded)
        var html = "<div class=\"scroll\"><table class=\"report sortable\" id=\"accounts\"><thead><tr><th>user</th><th>domains</th><th class=\"num\">bytes</th><th class=\"num\">limit</th><th class=\"num\">usage</th></tr></thead><tbody>"
        for (user, entry) in byUser.sorted(by: { ($0.value.bytes, $1.key) > ($1.value.bytes, $0.key) }) {
            let limit = limits[user]
            html += "<tr><td><a href=\"/bandwidth\(HTML.query([("user", user), ("month", month)]))\">\(HTML.escape(user))</a></td>"
            html += "<td>\(HTML.escape(entry.domains.sorted().joined(separator: ", ")))</td>"
            html += HTMLTable.cell(.bytes(entry.bytes), zone: app.zone)
            html += limit.map { HTMLTable.cell(.bytes($0), zone: app.zone) } ?? "<td class=\"num\" data-v=\"-1\">–</td>"
            html += UsageBar.html(bytes: entry.bytes, limit: limit) + "</tr>"
        }
        let total = byUser.values.reduce(Int64(0)) { $0 + $1.bytes }
        html += "</tbody><tfoot><tr><td>total</td><td>\(byUser.count) accounts</td>\(HTMLTable.cell(.bytes(total), zone: app.zone))<td></td><td></td></tr></tfoot></table></div>"
        return html
    }

    /// Stacked bars per period and protocol, one bar per slot (an empty one where nothing was
    /// served). `zone`: label hours in this zone (nil: UTC days).
    private func chart(_ table: ReportTable, title: String, slots: [Int64], zone: TimeZone?) -> String {
        var buckets: [Int64: [String: Int64]] = [:]
        var protocols: [String] = []
        for row in table.rows {
            guard let period = table.time(row, "period") else { continue }
            let proto = table.text(row, "protocol")
            if !protocols.contains(proto) { protocols.append(proto) }
            buckets[period, default: [:]][proto, default: 0] += table.integer(row, "bytes")
        }
        guard !buckets.isEmpty else { return "<p class=\"empty\">\(HTML.escape(title)): nothing recorded.</p>" }
        let order = ["http", "ftp", "imap", "pop3"]
        protocols.sort { (order.firstIndex(of: $0) ?? 99, $0) < (order.firstIndex(of: $1) ?? 99, $1) }
        let chartBuckets = slots.map { period in
            SVGChart.Bucket(label: zone.map { String(HTML.localTime(period, zone: $0).suffix(5)) } ?? String(WebApp.day(period).suffix(5)), values: buckets[period] ?? [:])
        }
        return SVGChart(title: title, series: protocols, buckets: chartBuckets).render()
    }
}
