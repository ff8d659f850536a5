import TailWatchComposition

/// `/mail`: WHM's "Mail Delivery Reports": per account sent, delivered, failed and deferred over a
/// range (24 hours, 7 or 30 days back, or a UTC month), deliveries per hour or day, the top senders of this hour, domains at their sending limits, and
/// the delivery search (`tailwatch-report mail trace`) as a form.
struct MailPage {
    let app: WebApp
    let request: HTTPRequest
    let now: Int64

    static let ranges = ["24h", "7d", "30d"]
    static let searchFields = ["sender", "recipient", "user", "msgid", "result"]

    func render() throws(WebFailure) -> (title: String, html: String) {
        // A range back from now, or a whole (UTC) month.
        let span: [(name: String, value: String)], label: String, hourly: Bool, slots: [Int64]
        if let text = request.parameter("month") {
            guard let t = WebApp.parseMonth(text) else { throw WebFailure(response: .text(400, "month must be YYYY-MM, not '\(ReportTable.printable(text))'")) }
            let month = WebApp.month(containing: t)
            span = [("since", WebApp.day(month.start)), ("until", WebApp.day(month.next))]
            (label, hourly) = (month.label, false)
            slots = Array(stride(from: month.start, to: month.next, by: 86400))
        } else {
            let range = request.parameter("range") ?? "24h"
            guard Self.ranges.contains(range) else { throw WebFailure(response: .text(400, "range must be 24h, 7d or 30d, not '\(ReportTable.printable(range))'")) }
            span = [("since", range)]
            (label, hourly) = ("last \(range)", range == "24h")
            let step = hourly ? 3600 : 86400
            let last = now - now % Int64(step)
            slots = Array(stride(from: last - Int64((hourly ? 23 : range == "7d" ? 6 : 29) * step), through: last, by: step))
        }
        let thisMonth = WebApp.month(containing: now)
        var html = "<nav class=\"months\">" + Self.ranges.map { r in
            "last \(r)" == label ? "<strong>last \(r)</strong>" : "<a href=\"/mail\(HTML.query([("range", r)]))\">last \(r)</a>"
        }.joined() + (label == thisMonth.label ? "<strong>\(label)</strong>" : "<a href=\"/mail\(HTML.query([("month", thisMonth.label)]))\">\(thisMonth.label)</a>") + "</nav>"
        html += try search(span)
        // The chart needs totals per period only: summed by SQLite, not one row per account and hour.
        let periods = try app.table(["mail", "summary"], [("by", hourly ? "hour" : "day"), ("per", "none")] + span)
        html += "<section>" + chart(periods, title: "Deliveries per \(hourly ? "hour" : "day"), \(label)", hourly: hourly, slots: slots) + "</section>"
        let summary = try app.table(["mail", "summary"], span)
        html += "<section><h2>Per account, \(HTML.escape(label))</h2>" + HTMLTable.render(summary, zone: app.zone) + "</section>"
        html += "<section><h2>Top senders this hour</h2>" + HTMLTable.render(try app.table(["mail", "top-senders"], []), zone: app.zone, empty: "No mail sent in the last hour.") + "</section>"
        html += "<section><h2>Sending limits this hour</h2>" + HTMLTable.render(try app.table(["mail", "limits"], []), zone: app.zone, empty: "No domain is near its limit.") + "</section>"
        return ("Mail", html)
    }

    /// The delivery search form, and its results when a field is filled in.
    private func search(_ span: [(name: String, value: String)]) throws(WebFailure) -> String {
        let given = request.query.filter { Self.searchFields.contains($0.name) && !$0.value.isEmpty }
        func value(_ name: String) -> String { HTML.escape(request.parameter(name) ?? "") }
        let result = request.parameter("result") ?? "all"
        var html = "<section><h2>Delivery search</h2><form class=\"filters\" method=\"get\" action=\"/mail\">"
        for keep in ["range", "month"] { if let v = request.parameter(keep) { html += "<input type=\"hidden\" name=\"\(keep)\" value=\"\(HTML.escape(v))\">" } }
        for (name, label, placeholder) in [("sender", "sender", "bob@example.com or @example.com"), ("recipient", "recipient", "address or @domain"),
                                           ("user", "account", "cPanel user"), ("msgid", "message id", "1vQx0a-0001Ab-7Q")] {
            html += "<label>\(label)<input name=\"\(name)\" value=\"\(value(name))\" placeholder=\"\(HTML.escape(placeholder))\"></label>"
        }
        html += "<label>result<select name=\"result\">" + ["all", "delivered", "deferred", "failed", "rejected"].map {
            "<option\($0 == result ? " selected" : "")>\($0)</option>"
        }.joined() + "</select></label><button type=\"submit\">Search</button></form>"
        guard !given.isEmpty else { return html + "<p class=\"note\">The newest 250 delivery attempts and rejections matching every field are shown.</p></section>" }
        let trace = try app.table(["mail", "trace"], given + span)
        return html + HTMLTable.render(trace, zone: app.zone, id: "trace", empty: "No delivery attempt or rejection matches.") + "</section>"
    }

    private func chart(_ table: ReportTable, title: String, hourly: Bool, slots: [Int64]) -> String {
        let series = ["delivered", "deferred", "failed"]
        var buckets: [Int64: [String: Int64]] = [:]
        for row in table.rows {
            guard let period = table.time(row, "period") else { continue }
            for s in series { buckets[period, default: [:]][s, default: 0] += table.integer(row, s) }
        }
        guard !buckets.isEmpty else { return "<p class=\"empty\">\(HTML.escape(title)): nothing recorded.</p>" }
        return SVGChart(title: title, series: series, buckets: slots.map { p in
            SVGChart.Bucket(label: hourly ? String(HTML.localTime(p, zone: app.zone).suffix(5)) : String(WebApp.day(p).suffix(5)), values: buckets[p] ?? [:])
        }, format: { "\($0)" }).render()
    }
}
