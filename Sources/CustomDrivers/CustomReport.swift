import Foundation
import GRDB

/// `tailwatch-report custom NAME`: what a custom driver recorded, from the schema the daemon last
/// gave its tables (not from the definition file, which may have been edited since).
///
/// - no `--by`: the counter per all its keys (or, for a driver that keeps only lines, its latest lines);
/// - `--by a,b`: counts grouped by those columns — from the counter when they are its keys, else
///   from the stored lines; a period word (`bucket`, `hour`, `day`, `month`) adds a period column;
/// - `--lines`: the stored lines themselves, newest first.
public enum CustomReport {
    public enum Cell: Equatable {
        case text(String)
        case integer(Int64)
        case time(Int64)
        case null
    }

    public struct Result {
        public let columns: [String]
        public let rows: [[Cell]]
    }

    public enum Period: String, CaseIterable, Sendable {
        case bucket, hour, day, month
    }

    /// A request the recorded schema cannot answer, said so the operator can fix the command line.
    public struct RequestError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func names(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT driver FROM custom_driver_schemas ORDER BY driver")
    }

    public static func run(
        _ db: Database, driver: String, by: [String], lines: Bool, since: Int64?, until: Int64?, limit: Int
    ) throws -> Result {
        guard DefinitionLoader.isIdentifier(driver),
              let json = try String.fetchOne(db, sql: "SELECT schema FROM custom_driver_schemas WHERE driver = ?", arguments: [driver]),
              let schema = try? CustomSchema(json: json) else {
            let known = try names(db)
            throw RequestError(description: "no custom driver '\(driver)' has run on this database (known: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
        }
        let linesTable = "custom_\(driver)", countsTable = "custom_\(driver)_counts"
        let lineColumns = schema.lines ?? []
        let allColumns = lineColumns + (schema.counter?.by ?? [])

        var keys: [CustomSchema.Column] = []
        var period: Period?
        for word in by {
            if let column = allColumns.first(where: { $0.name == word }) {
                guard !keys.contains(column) else { throw RequestError(description: "--by names '\(word)' twice") }
                keys.append(column)
            } else if let p = Period(rawValue: word), period == nil {
                period = p
            } else {
                let choices = Set(allColumns.map(\.name)).sorted() + Period.allCases.map(\.rawValue)
                throw RequestError(description: "--by: '\(word)' is neither a column of \(driver) nor a period (choose from: \(choices.joined(separator: ", ")))")
            }
        }

        if lines || (schema.counter == nil && by.isEmpty) {
            guard schema.lines != nil else { throw RequestError(description: "\(driver) does not store lines ([store] lines = false); use --by") }
            guard by.isEmpty else { throw RequestError(description: "--lines lists lines; it takes no --by") }
            return try listLines(db, table: linesTable, columns: lineColumns, since: since, until: until, limit: limit)
        }

        let counter = schema.counter
        let fromCounter = counter.map { c in keys.allSatisfy { c.by.contains($0) } } ?? false
        if !fromCounter {
            guard schema.lines != nil, keys.allSatisfy({ lineColumns.contains($0) }) else {
                throw RequestError(description: "--by: \(driver) counts only per \(counter?.by.map(\.name).joined(separator: ", ") ?? "nothing") and stores no lines to group otherwise")
            }
        }
        if keys.isEmpty && by.allSatisfy({ Period(rawValue: $0) != nil }) && fromCounter, let counter {
            keys = counter.by
        }
        let table = fromCounter ? countsTable : linesTable
        let timeColumn = fromCounter ? "bucket" : "at"
        let bucketSeconds = counter?.bucketSeconds ?? 300
        var select = keys.map { quoted($0.name) }
        var columns = keys.map(\.name)
        if let period {
            let expression: String
            switch period {
            case .bucket: expression = "(\(timeColumn) / \(bucketSeconds)) * \(bucketSeconds)"
            case .hour: expression = "(\(timeColumn) / 3600) * 3600"
            case .day: expression = "(\(timeColumn) / 86400) * 86400"
            case .month: expression = "CAST(strftime('%s', \(timeColumn), 'unixepoch', 'start of month') AS INTEGER)"
            }
            select.append("\(expression) AS period")
            columns.append("period")
        }
        let groups = select.indices.map { String($0 + 1) }
        let sumColumn = counter?.sum
        if fromCounter {
            select += ["SUM(count)", "SUM(sum)"]
        } else {
            select.append("COUNT(*)")
            select.append(sumColumn.flatMap { s in lineColumns.contains { $0.name == s } ? "SUM(\(quoted(s)))" : nil } ?? "0")
        }
        columns.append("count")
        if sumColumn != nil { columns.append("sum") }
        let (condition, arguments) = range(timeColumn, since: since, until: until)
        var sql = "SELECT \(select.joined(separator: ", ")) FROM \(quoted(table))" + condition
        if !groups.isEmpty { sql += " GROUP BY " + groups.joined(separator: ", ") }
        // Periods in order; within one, the largest counts first.
        var order: [String] = period != nil ? [String(keys.count + 1)] : []
        order.append("\(select.count - 1) DESC")
        order += groups
        sql += " ORDER BY " + order.joined(separator: ", ") + " LIMIT \(limit)"
        var rows: [[Cell]] = []
        let base = keys.count + (period != nil ? 1 : 0)
        for row in try Row.fetchAll(db, sql: sql, arguments: arguments) {
            var cells: [Cell] = keys.indices.map { cell(row[$0] as DatabaseValue, type: keys[$0].type) }
            if period != nil {
                let start: Int64 = row[keys.count] ?? 0
                cells.append(Cell.time(start))
            }
            let count: Int64 = row[base] ?? 0
            // An empty range still gives one aggregate row without GROUP BY: show nothing instead.
            if groups.isEmpty, count == 0 { continue }
            cells.append(Cell.integer(count))
            if sumColumn != nil {
                let sum: Int64 = row[base + 1] ?? 0
                cells.append(Cell.integer(sum))
            }
            rows.append(cells)
        }
        return Result(columns: columns, rows: rows)
    }

    private static func listLines(_ db: Database, table: String, columns: [CustomSchema.Column], since: Int64?, until: Int64?, limit: Int) throws -> Result {
        let (condition, arguments) = range("t.at", since: since, until: until)
        let sql = "SELECT t.at, s.path, \(columns.map { "t." + quoted($0.name) }.joined(separator: ", ")) FROM \(quoted(table)) t"
            + " LEFT JOIN custom_sources s ON s.id = t.source" + condition
            + " ORDER BY t.at DESC, t.id DESC LIMIT \(limit)"
        let rows = try Row.fetchAll(db, sql: sql, arguments: arguments).map { row -> [Cell] in
            let at: Int64 = row[0] ?? 0
            let source: String = row[1] ?? ""
            return [Cell.time(at), Cell.text(source)] + columns.indices.map { cell(row[$0 + 2] as DatabaseValue, type: columns[$0].type) }
        }
        return Result(columns: ["at", "source"] + columns.map(\.name), rows: rows)
    }

    /// ` WHERE column >= ? AND column < ?` for the bounds given (or nothing), and its arguments.
    private static func range(_ column: String, since: Int64?, until: Int64?) -> (String, StatementArguments) {
        var conditions: [String] = []
        var arguments: [DatabaseValueConvertible] = []
        if let since { conditions.append("\(column) >= ?"); arguments.append(since) }
        if let until { conditions.append("\(column) < ?"); arguments.append(until) }
        return (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "), StatementArguments(arguments))
    }

    private static func cell(_ value: DatabaseValue, type: String) -> Cell {
        switch value.storage {
        case .null: return .null
        case .int64(let n): return type.hasPrefix("timestamp") ? .time(n) : .integer(n)
        case .double(let d): return .integer(Int64(d))
        case .string(let s): return .text(s)
        case .blob(let b): return .text(String(decoding: b, as: UTF8.self))
        }
    }
}
