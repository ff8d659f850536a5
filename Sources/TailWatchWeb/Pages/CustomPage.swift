import Foundation
import TailWatchComposition

/// `/custom/NAME`: what a custom driver counted: its counter per key, and a chart of its counts
/// per day.
struct CustomPage {
    let app: WebApp
    let name: String

    func render() throws(WebFailure) -> (title: String, html: String) {
        let table = try app.table(["custom"], operand: name, [("limit", "500")])
        var html = ""
        // Per day over the 30 days up to the newest count (today on a server whose logs are live).
        if let daily = try? app.table(["custom"], operand: name, [("by", "day")]), daily.index("period") != nil, daily.index("count") != nil {
            var buckets: [Int64: Int64] = [:]
            for row in daily.rows { if let t = daily.time(row, "period") { buckets[t, default: 0] += daily.integer(row, "count") } }
            if let newest = buckets.keys.max() {
                let days = stride(from: newest - 29 * 86400, through: newest, by: 86400)
                html += "<section>" + SVGChart(title: "Lines counted per day, 30 days to \(WebApp.day(newest)) (UTC)", series: ["count"], buckets: days.map {
                    SVGChart.Bucket(label: String(WebApp.day($0).suffix(5)), values: ["count": buckets[$0] ?? 0])
                }, format: { "\($0)" }).render() + "</section>"
            }
        }
        html += "<section><h2>Counts</h2>" + HTMLTable.render(table, zone: app.zone) + "</section>"
        return (name, html)
    }
}
