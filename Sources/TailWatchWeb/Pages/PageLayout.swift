import Foundation

/// The frame of every page: the navigation, the style sheet and script from `/static/`, and the
/// zone times are shown in.
enum PageLayout {
    static let sections: [(path: String, title: String)] = [
        ("/", "Overview"), ("/bandwidth", "Bandwidth"), ("/mail", "Mail"), ("/relay", "Relay hosts"), ("/services", "Services"),
    ]

    static func render(title: String, active: String, hostName: String, zone: TimeZone, customDrivers: [String], body: String, now: Int64) -> String {
        var nav = sections.map { s in "<a href=\"\(s.path)\"\(s.path == active ? " class=\"active\"" : "")>\(s.title)</a>" }
        nav += customDrivers.map { name in
            let path = "/custom/" + name
            return "<a href=\"\(HTML.escape(path))\"\(path == active ? " class=\"active\"" : "")>\(HTML.escape(name))</a>"
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTML.escape(title)) · TailWatch · \(HTML.escape(hostName))</title>
            <link rel="stylesheet" href="/static/style.css">
            </head><body data-live="on">
            <header><strong>TailWatch</strong>\(nav.joined())</header>
            <main>
            <h1>\(HTML.escape(title))</h1>
            \(body)
            <p class="note">\(HTML.escape(hostName)) · \(HTML.escape(HTML.localTime(now, zone: zone, withSeconds: true))) \(HTML.escape(zone.identifier == "GMT" ? "UTC" : zone.identifier)) · updates every 10 s</p>
            </main>
            <script src="/static/live.js"></script>
            </body></html>
            """
    }
}
