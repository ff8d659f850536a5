import Foundation
import TailWatchComposition
import TailWatchEngine

/// Text made safe for HTML, and the few formats every page shares (local times, sizes).
///
/// Why every dynamic string goes through `escape`: user agents, URLs, mail addresses and subjects
/// come from log lines an attacker writes. A `<script>` in one must be shown as text.
enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters (a terminal escape in a log line) are shown, not passed on.
                if scalar.value < 0x20 || scalar.value == 0x7F { out += "\u{FFFD}" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }

    /// `name=value&…`, each part percent-encoded for a link.
    static func query(_ items: [(String, String?)]) -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let parts = items.compactMap { name, value in
            value.map { "\(name)=\($0.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }
        }
        return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
    }

    /// A time in the configuration's zone, to the minute: how the operator reads their logs.
    static func localTime(_ seconds: Int64, zone: TimeZone, withSeconds: Bool = false) -> String {
        let offset = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds))))
        let local = seconds + offset
        let (y, m, d) = CivilTime.civil(fromUTC: local)
        let inDay = ((local % 86400) + 86400) % 86400
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let time = "\(two(inDay / 3600)):\(two(inDay / 60 % 60))" + (withSeconds ? ":\(two(inDay % 60))" : "")
        return "\(y)-\(two(Int64(m)))-\(two(Int64(d))) \(time)"
    }
}

/// A `ReportTable` as an HTML table: every cell escaped, numbers right-aligned and sortable by
/// their value (the live script sorts on `data-v`), sizes human with the exact count in a tooltip.
enum HTMLTable {
    static func render(_ table: ReportTable, zone: TimeZone, id: String? = nil, empty: String = "Nothing recorded in this range.") -> String {
        guard !table.rows.isEmpty else { return "<p class=\"empty\">\(HTML.escape(empty))</p>" }
        var out = "<div class=\"scroll\"><table class=\"report sortable\"\(id.map { " id=\"\(HTML.escape($0))\"" } ?? "")><thead><tr>"
        // A column is right-aligned when any of its cells is a number, its empty cells too.
        let numeric = table.columns.indices.map { i in table.rows.contains { i < $0.count && isNumeric($0[i]) } }
        for (i, name) in table.columns.enumerated() {
            out += "<th\(numeric[i] ? " class=\"num\"" : "")>\(HTML.escape(name.replacingOccurrences(of: "_", with: " ")))</th>"
        }
        out += "</tr></thead><tbody>"
        let status = table.columns.firstIndex(of: "status")
        for row in table.rows {
            out += "<tr>" + row.enumerated().map { i, c in
                // A status reads at a glance: up in green, anything else in red.
                if i == status, case .text(let s) = c {
                    return "<td class=\"\(s == "up" ? "status-up" : "status-down")\">\(HTML.escape(s))</td>"
                }
                if numeric[i], case .null = c { return "<td class=\"num\" data-v=\"-1\">–</td>" }
                return cell(c, zone: zone)
            }.joined() + "</tr>"
        }
        out += "</tbody>"
        if let footer = table.footer {
            out += "<tfoot><tr>" + footer.map { cell($0, zone: zone) }.joined() + "</tr></tfoot>"
        }
        return out + "</table></div>"
    }

    static func isNumeric(_ cell: ReportTable.Cell) -> Bool {
        switch cell {
        case .integer, .bytes, .percent, .nested: true
        default: false
        }
    }

    static func cell(_ cell: ReportTable.Cell, zone: TimeZone) -> String {
        switch cell {
        case .text(let s): "<td>\(HTML.escape(s))</td>"
        case .integer(let n): "<td class=\"num\" data-v=\"\(n)\">\(n)</td>"
        case .bytes(let n): "<td class=\"num\" data-v=\"\(n)\" title=\"\(n) bytes\">\(HumanSize.format(n))</td>"
        case .time(let t): t.map { "<td data-v=\"\($0)\"><time datetime=\"\(ReportTable.iso($0))\">\(HTML.localTime($0, zone: zone))</time></td>" } ?? "<td>–</td>"
        case .list(let items): "<td>\(HTML.escape(items.joined(separator: ", ")))</td>"
        case .percent(let p): p.map { "<td class=\"num\" data-v=\"\($0)\">\(ReportTable.percentText($0)) %</td>" } ?? "<td class=\"num\">–</td>"
        case .bool(let b): "<td>\(b ? "yes" : "no")</td>"
        case .null: "<td>–</td>"
        case .nested(let t): "<td class=\"num\" data-v=\"\(t.rows.count)\">\(t.rows.count)</td>"
        }
    }
}
