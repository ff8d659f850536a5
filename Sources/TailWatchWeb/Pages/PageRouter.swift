import Foundation
import TailWatchComposition
import TailWatchEngine

/// Which page a path is, and the frame around its body. A page body is built from report tables
/// (`WebApp.report`); a bad parameter is a 400 page with the report's own one-line reason.
extension WebApp {
    func page(_ request: HTTPRequest) -> HTTPResponse {
        let now = Int64(Date().timeIntervalSince1970)
        do throws(WebFailure) {
            let page: (title: String, html: String)
            switch request.path {
            case "/": page = try OverviewPage(app: self, now: now).render()
            case "/bandwidth": page = try BandwidthPage(app: self, request: request, now: now).render()
            case "/mail": page = try MailPage(app: self, request: request, now: now).render()
            case "/relay": page = ("Relay hosts", relayBody(try table(["relayhosts"], request.query.filter { $0.name == "window" })))
            case "/services": page = try ServicesPage(app: self).render()
            default:
                let name = String(request.path.dropFirst("/custom/".count))
                guard request.path.hasPrefix("/custom/"), customDrivers.contains(name) else {
                    return .html(frame(title: "Not found", active: "", body: "<section><p>No page at \(HTML.escape(request.path)).</p></section>", now: now), status: 404)
                }
                page = try CustomPage(app: self, name: name).render()
            }
            return .html(frame(title: page.title, active: request.path, body: page.html, now: now))
        } catch {
            let message = String(decoding: error.response.body, as: UTF8.self)
            return .html(frame(title: error.response.status == 400 ? "Bad request" : "Error", active: request.path,
                               body: "<section><p>\(HTML.escape(message))</p></section>", now: now), status: error.response.status)
        }
    }

    func frame(title: String, active: String, body: String, now: Int64) -> String {
        PageLayout.render(title: title, active: active, hostName: hostName, zone: zone, customDrivers: customDrivers, body: body, now: now)
    }

    func relayBody(_ table: ReportTable) -> String {
        "<section><h2>Hosts that may relay now</h2><p class=\"note\">A successful POP3 or IMAP login within the window lets the host send mail through this server (POP-before-SMTP).</p>"
            + HTMLTable.render(table, zone: zone, empty: "No host may relay now.") + "</section>"
    }

    /// Start of the UTC month holding `t`, and of the next one (the reports' months are UTC).
    static func month(containing t: Int64) -> (start: Int64, next: Int64, label: String) {
        let (y, m, _) = CivilTime.civil(fromUTC: t)
        let start = CivilTime.utcSeconds(year: y, month: m, day: 1, hour: 0, minute: 0, second: 0)
        let next = m == 12 ? CivilTime.utcSeconds(year: y + 1, month: 1, day: 1, hour: 0, minute: 0, second: 0) : CivilTime.utcSeconds(year: y, month: m + 1, day: 1, hour: 0, minute: 0, second: 0)
        return (start, next, String(format: "%04d-%02d", y, m))
    }

    /// `YYYY-MM` → a time inside that month, or nil.
    static func parseMonth(_ text: String) -> Int64? {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let y = Int(parts[0]), let m = Int(parts[1]), (1970...9999).contains(y), (1...12).contains(m) else { return nil }
        return CivilTime.utcSeconds(year: y, month: m, day: 1, hour: 0, minute: 0, second: 0)
    }

    static func day(_ t: Int64) -> String { ReportTable.iso(t).prefix(10).description }
}
