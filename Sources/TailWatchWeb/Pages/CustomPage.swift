import TailWatchComposition

/// `/custom/NAME`: what a custom driver counted: its counter per key, and per hour over the last
/// day when the driver keeps times.
struct CustomPage {
    let app: WebApp
    let name: String
    let request: HTTPRequest

    func render() throws(WebFailure) -> (title: String, html: String) {
        let table = try app.table(["custom"], operand: name, [("limit", "500")])
        var html = ""
        if let hourly = try? app.table(["custom"], operand: name, [("by", "hour"), ("since", "24h")]),
           let timeColumn = hourly.columns.first(where: { c in hourly.rows.contains { hourly.time($0, c) != nil } }),
           let countColumn = hourly.columns.last(where: { c in hourly.rows.first.map { HTMLTable.isNumeric($0[hourly.index(c)!]) } ?? false }) {
            var buckets: [Int64: Int64] = [:]
            for row in hourly.rows { if let t = hourly.time(row, timeColumn) { buckets[t, default: 0] += hourly.integer(row, countColumn) } }
            html += "<section>" + SVGChart(title: "\(countColumn) per hour, last 24 hours", series: [countColumn], buckets: buckets.keys.sorted().map {
                SVGChart.Bucket(label: String(HTML.localTime($0, zone: app.zone).suffix(5)), values: [countColumn: buckets[$0]!])
            }, format: { "\($0)" }).render() + "</section>"
        }
        html += "<section><h2>Counts</h2>" + HTMLTable.render(table, zone: app.zone) + "</section>"
        return (name, html)
    }
}
