import TailWatchComposition

/// Reading a `ReportTable`'s cells by column name: the pages and metrics draw from the reports'
/// own tables rather than querying again.
extension ReportTable {
    func index(_ column: String) -> Int? { columns.firstIndex(of: column) }

    func integer(_ row: [Cell], _ column: String) -> Int64 {
        guard let i = index(column) else { return 0 }
        switch row[i] {
        case .integer(let n), .bytes(let n): return n
        case .time(let t): return t ?? 0
        case .nested(let t): return Int64(t.rows.count)
        default: return 0
        }
    }

    func text(_ row: [Cell], _ column: String) -> String {
        guard let i = index(column) else { return "" }
        switch row[i] {
        case .text(let s): return s
        case .list(let items): return items.joined(separator: ", ")
        case .integer(let n), .bytes(let n): return String(n)
        default: return ""
        }
    }

    func time(_ row: [Cell], _ column: String) -> Int64? {
        guard let i = index(column), case .time(let t) = row[i] else { return nil }
        return t
    }

    func percent(_ row: [Cell], _ column: String) -> Double? {
        guard let i = index(column), case .percent(let p) = row[i] else { return nil }
        return p
    }

    func nested(_ row: [Cell], _ column: String) -> ReportTable? {
        guard let i = index(column), case .nested(let t) = row[i] else { return nil }
        return t
    }
}
