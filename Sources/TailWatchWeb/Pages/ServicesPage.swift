import TailWatchComposition

/// `/services`: WHM's "Service Status": each service's status, last check and counts, its uptime
/// over 24 hours, 7 and 30 days, and its outages.
struct ServicesPage {
    let app: WebApp

    func render() throws(WebFailure) -> (title: String, html: String) {
        let now = try app.table(["services"], [])
        let history = try app.table(["services"], [("history", "true")])
        var html = "<section><h2>Status</h2>" + HTMLTable.render(now, zone: app.zone, empty: "chkservd has not checked any service yet.") + "</section>"
        let summary = ReportTable(columns: ["service", "status", "uptime_24h", "uptime_7d", "uptime_30d", "outages"],
                                  rows: history.rows)
        html += "<section><h2>Uptime</h2>" + HTMLTable.render(summary, zone: app.zone, empty: "No history yet.") + "</section>"
        for row in history.rows {
            guard let outages = history.nested(row, "outages"), !outages.rows.isEmpty else { continue }
            html += "<section><h2>Outages of \(HTML.escape(history.text(row, "service")))</h2>" + HTMLTable.render(outages, zone: app.zone) + "</section>"
        }
        return ("Services", html)
    }
}
