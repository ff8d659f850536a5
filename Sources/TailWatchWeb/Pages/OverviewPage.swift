import Foundation
import GRDB
import TailWatchComposition
import TailWatchEngine

/// `/`: what each driver did, how far behind it is, and what needs a look today: services down,
/// accounts near their bandwidth limit, mail and bandwidth so far today (UTC day).
struct OverviewPage {
    let app: WebApp
    let now: Int64

    func render() throws(WebFailure) -> (title: String, html: String) {
        let enabled = Set(app.context.loaded.enabledDriverNames)
        let today = [("since", WebApp.day(now))]
        var cards: [String] = []
        var html = ""
        if enabled.contains("cpbandwd") {
            let bandwidth = try app.table(["bandwidth"], today + [("per", "protocol")])
            cards.append(card(HumanSize.format(bandwidth.rows.reduce(0) { $0 + bandwidth.integer($1, "bytes") }), "served today", link: "/bandwidth"))
            html += try nearLimits()
        }
        if enabled.contains("eximstats") {
            let mail = try app.table(["mail", "summary"], today)
            cards.append(card("\(mail.rows.reduce(0) { $0 + mail.integer($1, "sent") })", "messages sent today", link: "/mail"))
            cards.append(card("\(mail.rows.reduce(0) { $0 + mail.integer($1, "failed") })", "failed deliveries today", link: "/mail"))
        }
        if enabled.contains("antirelayd") {
            cards.append(card("\(try app.table(["relayhosts"], []).rows.count)", "hosts may relay now", link: "/relay"))
        }
        if enabled.contains("chkservd") {
            let services = try app.table(["services"], [])
            let down = services.rows.filter { services.text($0, "status") != "up" }
            cards.append(card("\(down.count) of \(services.rows.count)", "services not up", link: "/services"))
            if !down.isEmpty {
                html = "<section><h2>Services not up</h2>" + HTMLTable.render(ReportTable(columns: services.columns, rows: down), zone: app.zone) + "</section>" + html
            }
        }
        return ("Overview", "<div class=\"cards\">\(cards.joined())</div><section><h2>Drivers</h2>\(try drivers())</section>" + html)
    }

    private func card(_ value: String, _ label: String, link: String) -> String {
        "<a class=\"card\" href=\"\(link)\"><b>\(HTML.escape(value))</b><small>\(HTML.escape(label))</small></a>"
    }

    /// Per driver: lines read, events, rejections, last commit and bytes behind.
    private func drivers() throws(WebFailure) -> String {
        let board = Dictionary(app.health.snapshot.drivers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let stats: [String: Row]
        do {
            stats = try app.context.reader.read { db in
                Dictionary(try Row.fetchAll(db, sql: "SELECT * FROM driver_stats").map { ($0["driver"] as String, $0) }, uniquingKeysWith: { a, _ in a })
            }
        } catch {
            throw WebFailure(response: app.internalError("overview: \(error)"))
        }
        let rows: [[ReportTable.Cell]] = app.context.loaded.drivers.map { name, configured in
            let s = stats[name]
            let behind = board[name]?.bytesBehind
            return [.text(name), .text(configured.enabled ? "enabled" : "disabled"),
                    .integer(s?["lines_read"] ?? 0), .integer(s?["events_written"] ?? 0), .integer(s?["lines_rejected"] ?? 0),
                    .time(s?["last_commit"]), behind.map { .bytes($0) } ?? .null]
        }
        return HTMLTable.render(ReportTable(columns: ["driver", "state", "lines_read", "events", "rejected", "last_commit", "behind"], rows: rows), zone: app.zone)
    }

    /// Accounts at 70 % or more of their monthly limit.
    private func nearLimits() throws(WebFailure) -> String {
        let limits = UsageBar.limits(app.context.loaded)
        guard !limits.isEmpty else { return "" }
        let month = WebApp.month(containing: now)
        // The monthly rollup (what the limits themselves are checked against), this month's rows.
        let table = try app.table(["bandwidth"], [("by", "month")])
        var used: [String: Int64] = [:]
        for row in table.rows where table.time(row, "period") == month.start { used[table.text(row, "user"), default: 0] += table.integer(row, "bytes") }
        let near = used.compactMap { user, bytes -> (String, Int64, Int64)? in
            guard let limit = limits[user], limit > 0, Double(bytes) >= 0.7 * Double(limit) else { return nil }
            return (user, bytes, limit)
        }.sorted { Double($0.1) / Double($0.2) > Double($1.1) / Double($1.2) }
        guard !near.isEmpty else { return "<section><h2>Bandwidth limits</h2><p class=\"empty\">No account is at 70 % of its limit this month.</p></section>" }
        var html = "<section><h2>Accounts near their bandwidth limit (\(month.label))</h2><div class=\"scroll\"><table class=\"report sortable\"><thead><tr><th>user</th><th class=\"num\">bytes</th><th class=\"num\">limit</th><th class=\"num\">usage</th></tr></thead><tbody>"
        for (user, bytes, limit) in near {
            html += "<tr><td><a href=\"/bandwidth\(HTML.query([("user", user)]))\">\(HTML.escape(user))</a></td>\(HTMLTable.cell(.bytes(bytes), zone: app.zone))\(HTMLTable.cell(.bytes(limit), zone: app.zone))\(UsageBar.html(bytes: bytes, limit: limit))</tr>"
        }
        return html + "</tbody></table></div></section>"
    }
}
