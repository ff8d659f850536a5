import Foundation
import GRDB
import TailWatchEngine

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
        switch try plan(schema, driver: driver, by: by, lines: lines) {
        case .lines:
            return try listLines(db, table: CustomDefinition.linesTable(driver), columns: schema.lines ?? [], since: since, until: until, limit: limit)
        case .counts(let grouping):
            let table = grouping.fromCounter ? CustomDefinition.countsTable(driver) : CustomDefinition.linesTable(driver)
            return try counts(
                SQLiteReportRows(db), grouping, from: quoted(table), where: [], [], key: { _, column in quoted(column.name) },
                since: since, until: until, limit: limit)
        }
    }

    /// The same counts for every server of the fleet (or `host`), from the counters they shipped:
    /// rows start with their server. Lines stay on each server, so only what the counter answers
    /// is asked here; every server must count alike (the same keys and bucket).
    public static func fleet(
        _ source: some ReportRows, host: String?, driver: String, by: [String], lines: Bool, since: Int64?, until: Int64?, limit: Int
    ) throws -> Result {
        let hostFilter = host == nil ? "" : " AND host = ?"
        let recorded = try source.fetch(
            "SELECT host, schema FROM custom_driver_schemas WHERE driver = ?\(hostFilter) ORDER BY host",
            [.text(driver)] + (host.map { [.text($0)] } ?? []))
        let schemas = recorded.compactMap { row in (try? CustomSchema(json: row[1].string)).map { (host: row[0].string, schema: $0) } }
        guard let first = schemas.first else {
            throw RequestError(description: "no server\(host.map { " named '\($0)'" } ?? "") has shipped custom driver '\(driver)' to the fleet")
        }
        guard let counter = first.schema.counter else {
            throw RequestError(description: "\(driver) keeps no counter on \(first.host); the fleet holds counters (lines stay on each server: ask it without --fleet)")
        }
        if let other = schemas.first(where: { $0.schema.counter != counter }) {
            throw RequestError(description: "\(driver) counts differently on \(first.host) and \(other.host) (keys or bucket); ask one of them with --host")
        }
        if let word = by.first(where: { w in !counter.by.contains { $0.name == w } && (first.schema.lines ?? []).contains { $0.name == w } }) {
            throw RequestError(description: "--by \(word): the fleet holds \(driver)'s counter (per \(counter.by.map(\.name).joined(separator: ", "))), not its lines (ask a server without --fleet)")
        }
        let countsOnly = CustomSchema(lines: nil, counter: counter)
        guard !lines, case .counts(let grouping) = try plan(countsOnly, driver: driver, by: by, lines: false) else {
            throw RequestError(description: "--lines: the fleet holds \(driver)'s counter, not its lines (ask a server without --fleet)")
        }
        var conditions = ["counts_table = ?"]
        var arguments: [ReportValue] = [.text(CustomDefinition.countsTable(driver))]
        if let host { conditions.append("host = ?"); arguments.append(.text(host)) }
        return try counts(
            source, grouping, from: "custom_counts", where: conditions, arguments,
            key: { index, column in
                let value = "((key_values::jsonb) ->> \(index))"
                return sqlType(ofSpelling: column.type) == "INTEGER" ? "(\(value)::bigint)" : value
            },
            hostColumn: true, since: since, until: until, limit: limit)
    }

    /// What a request asks of a schema: its lines, or counts grouped by some of its columns.
    private enum Plan {
        case lines
        case counts(Grouping)
    }

    private struct Grouping {
        var keys: [CustomSchema.Column]
        var period: Period?
        /// From the counter's table (else from the lines, counted).
        var fromCounter: Bool
        var counter: CustomSchema.Counter?
        var lineColumns: [CustomSchema.Column]
    }

    private static func plan(_ schema: CustomSchema, driver: String, by: [String], lines: Bool) throws -> Plan {
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
            return .lines
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
        return .counts(Grouping(keys: keys, period: period, fromCounter: fromCounter, counter: counter, lineColumns: lineColumns))
    }

    /// Counts (and sums) per `grouping`'s keys and period from `table`, on either store. `key`
    /// spells a column given its place in the counter's keys; `hostColumn` puts the server first.
    private static func counts(
        _ source: some ReportRows, _ grouping: Grouping, from table: String, where filter: [String], _ filterArguments: [ReportValue],
        key: (Int, CustomSchema.Column) -> String, hostColumn: Bool = false, since: Int64?, until: Int64?, limit: Int
    ) throws -> Result {
        let keys = grouping.keys
        let timeColumn = grouping.fromCounter ? "bucket" : "at"
        let bucketSeconds = grouping.counter?.bucketSeconds ?? 300
        var select = (hostColumn ? ["host"] : []) + keys.map { column in
            key(grouping.counter?.by.firstIndex(of: column) ?? 0, column)
        }
        var columns = (hostColumn ? ["host"] : []) + keys.map(\.name)
        if let period = grouping.period {
            let expression: String
            switch period {
            case .bucket: expression = "(\(timeColumn) / \(bucketSeconds)) * \(bucketSeconds)"
            case .hour: expression = "(\(timeColumn) / 3600) * 3600"
            case .day: expression = "(\(timeColumn) / 86400) * 86400"
            case .month: expression = source.monthStart(timeColumn)
            }
            select.append(expression)
            columns.append("period")
        }
        let groups = select.indices.map { String($0 + 1) }
        let sumColumn = grouping.counter?.sum
        if grouping.fromCounter {
            select += ["SUM(count)", "SUM(sum)"]
        } else {
            select.append("COUNT(*)")
            select.append(sumColumn.flatMap { s in grouping.lineColumns.contains { $0.name == s } ? "SUM(\(quoted(s)))" : nil } ?? "0")
        }
        columns.append("count")
        if sumColumn != nil { columns.append("sum") }
        let range = bounds(timeColumn, since: since, until: until)
        let conditions = filter + range.conditions
        let arguments = filterArguments + range.arguments
        var sql = "SELECT \(select.joined(separator: ", ")) FROM \(table)"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        if !groups.isEmpty { sql += " GROUP BY " + groups.joined(separator: ", ") }
        // Periods in order; within one, the largest counts first.
        let base = groups.count
        var order: [String] = grouping.period != nil ? [String(base)] : []
        order.append("\(base + 1) DESC")
        order += groups
        sql += " ORDER BY " + order.joined(separator: ", ") + " LIMIT \(limit)"
        var rows: [[Cell]] = []
        for row in try source.fetch(sql, arguments) {
            var cells: [Cell] = hostColumn ? [.text(row[0].string)] : []
            let first = hostColumn ? 1 : 0
            cells += keys.indices.map { cell(row[first + $0], type: keys[$0].type) }
            if grouping.period != nil { cells.append(.time(row[first + keys.count].int64)) }
            let count = row[base].int64
            // An empty range still gives one aggregate row without GROUP BY: show nothing instead.
            if groups.isEmpty, count == 0 { continue }
            cells.append(.integer(count))
            if sumColumn != nil { cells.append(.integer(row[base + 1].int64)) }
            rows.append(cells)
        }
        return Result(columns: columns, rows: rows)
    }

    private static func listLines(_ db: Database, table: String, columns: [CustomSchema.Column], since: Int64?, until: Int64?, limit: Int) throws -> Result {
        let range = bounds("t.at", since: since, until: until)
        let sql = "SELECT t.at, s.path, \(columns.map { "t." + quoted($0.name) }.joined(separator: ", ")) FROM \(quoted(table)) t"
            + " LEFT JOIN custom_sources s ON s.id = t.source" + (range.conditions.isEmpty ? "" : " WHERE " + range.conditions.joined(separator: " AND "))
            + " ORDER BY t.at DESC, t.id DESC LIMIT \(limit)"
        let rows = try SQLiteReportRows(db).fetch(sql, range.arguments).map { row -> [Cell] in
            [Cell.time(row[0].int64), Cell.text(row[1].string)] + columns.indices.map { cell(row[$0 + 2], type: columns[$0].type) }
        }
        return Result(columns: ["at", "source"] + columns.map(\.name), rows: rows)
    }

    /// `column >= since` and `column < until` for the bounds given, and their arguments.
    private static func bounds(_ column: String, since: Int64?, until: Int64?) -> (conditions: [String], arguments: [ReportValue]) {
        var conditions: [String] = []
        var arguments: [ReportValue] = []
        if let since { conditions.append("\(column) >= ?"); arguments.append(.integer(since)) }
        if let until { conditions.append("\(column) < ?"); arguments.append(.integer(until)) }
        return (conditions, arguments)
    }

    /// A value of either store (the fleet's are text) as a cell of the column's type.
    private static func cell(_ value: ReportValue, type: String) -> Cell {
        switch value {
        case .null: .null
        case .integer, .real: type.hasPrefix("timestamp") ? .time(value.int64) : .integer(value.int64)
        case .text(let s):
            switch sqlType(ofSpelling: type) {
            case "INTEGER": Int64(s).map { type.hasPrefix("timestamp") ? .time($0) : .integer($0) } ?? .text(s)
            default: .text(s)
            }
        }
    }
}
