import Foundation
import TailWatchEngine

/// A report's result before formatting: named columns and typed cells, printed as an aligned table,
/// one JSON array of objects, or CSV with a header row.
///
/// Why typed cells: JSON needs numbers as numbers and times as ISO 8601 strings, CSV needs exact
/// integers, and the table wants human sizes; each format renders the same cell its own way.
public struct ReportTable: Sendable {
    public enum Cell: Sendable {
        case text(String)
        case integer(Int64)
        /// A byte count: exact in JSON/CSV, human (KiB, MiB…) in the table.
        case bytes(Int64)
        /// Unix seconds, or null.
        case time(Int64?)
        /// Several names: a JSON array; joined with ", " in the table and CSV.
        case list([String])
        /// A percentage with two decimals, or null.
        case percent(Double?)
        /// true or false, in every format.
        case bool(Bool)
        /// No value: null in JSON, empty in CSV, "-" in the table.
        case null
        /// Rows belonging to this one (a service's outages): an array of objects in JSON, their
        /// count in CSV and in the table, which lists them below itself.
        case nested(ReportTable)
    }

    public static func percentText(_ p: Double) -> String { String(format: "%.2f", p) }

    public enum Format: String, CaseIterable, Sendable {
        case table, json, csv
    }

    public var columns: [String]
    public var rows: [[Cell]]
    /// A last line for the table format only (totals).
    public var footer: [Cell]? = nil

    public init(columns: [String], rows: [[Cell]], footer: [Cell]? = nil) {
        self.columns = columns
        self.rows = rows
        self.footer = footer
    }

    public func render(_ format: Format) -> String {
        switch format {
        case .json: renderJSON()
        case .csv: renderCSV()
        case .table: renderTable()
        }
    }

    /// `2026-11-02T10:00:00Z`, by arithmetic (a formatter per cell cost more than the query).
    public static func iso(_ seconds: Int64) -> String {
        let (year, month, day) = CivilTime.civil(fromUTC: seconds)
        let inDay = ((seconds % 86400) + 86400) % 86400
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let y = year < 0 || year > 9999 ? "\(year)" : String(repeating: "0", count: 4 - "\(year)".count) + "\(year)"
        return "\(y)-\(two(Int64(month)))-\(two(Int64(day)))T\(two(inDay / 3600)):\(two(inDay / 60 % 60)):\(two(inDay % 60))Z"
    }


    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private func renderJSON() -> String {
        "[" + jsonObjects().joined(separator: ",\n") + "]\n"
    }

    private func jsonObjects() -> [String] {
        rows.map { row in
            "{" + zip(columns, row).map { name, cell in
                let value: String
                switch cell {
                case .text(let s): value = Self.jsonString(s)
                case .integer(let n), .bytes(let n): value = String(n)
                case .time(let t): value = t.map { Self.jsonString(Self.iso($0)) } ?? "null"
                case .list(let items): value = "[" + items.map(Self.jsonString).joined(separator: ",") + "]"
                case .percent(let p): value = p.map(Self.percentText) ?? "null"
                case .bool(let b): value = b ? "true" : "false"
                case .null: value = "null"
                case .nested(let table): value = "[" + table.jsonObjects().joined(separator: ",") + "]"
                }
                return Self.jsonString(name) + ":" + value
            }.joined(separator: ",") + "}"
        }
    }

    static func csvField(_ s: String) -> String {
        if s.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }

    private func renderCSV() -> String {
        var out = columns.map(Self.csvField).joined(separator: ",") + "\n"
        for row in rows {
            out += row.map { cell -> String in
                switch cell {
                case .text(let s): Self.csvField(s)
                case .integer(let n), .bytes(let n): String(n)
                case .time(let t): t.map(Self.iso) ?? ""
                case .list(let items): Self.csvField(items.joined(separator: ", "))
                case .percent(let p): p.map(Self.percentText) ?? ""
                case .bool(let b): b ? "true" : "false"
                case .null: ""
                case .nested(let table): String(table.rows.count)
                }
            }.joined(separator: ",") + "\n"
        }
        return out
    }

    private func tableText(_ cell: Cell) -> String {
        switch cell {
        case .text(let s): Self.printable(s)
        case .list(let items): Self.printable(items.joined(separator: ", "))
        case .percent(let p): p.map { Self.percentText($0) + "%" } ?? "-"
        case .integer(let n): String(n)
        case .bytes(let n): HumanSize.format(n)
        case .time(let t): t.map(Self.iso) ?? "-"
        case .bool(let b): b ? "true" : "false"
        case .null: "-"
        case .nested(let table): String(table.rows.count)
        }
    }

    /// Control characters shown as `?`, so that a hostile name cannot move the terminal's cursor.
    public static func printable(_ s: String) -> String {
        s.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : String($0) }.joined()
    }

    private func renderTable() -> String {
        guard !rows.isEmpty else { return "(no rows)\n" }
        var lines = [columns] + rows.map { $0.map(tableText) }
        if let footer { lines.append(footer.map(tableText)) }
        var widths = columns.map(\.count)
        for line in lines { for (i, cell) in line.enumerated() { widths[i] = max(widths[i], cell.count) } }
        let numeric = (rows.first ?? []).map { cell -> Bool in
            switch cell {
            case .integer, .bytes, .percent, .nested: true
            default: false
            }
        }
        func format(_ line: [String]) -> String {
            line.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return numeric[i] ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        var out = format(lines[0]) + "\n"
        out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        for (index, line) in lines.dropFirst().enumerated() {
            if footer != nil && index == lines.count - 2 {
                out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
            }
            out += format(line) + "\n"
        }
        // Nested rows follow, under the first column's value of the row they belong to.
        for row in rows {
            for case .nested(let table) in row where !table.rows.isEmpty {
                out += "\n" + (row.first.map(tableText) ?? "") + ":\n"
                out += table.renderTable().split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { "  " + $0 }.joined(separator: "\n") + "\n"
            }
        }
        return out
    }
}
