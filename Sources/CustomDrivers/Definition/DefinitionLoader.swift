import Foundation
import TailWatchEngine

/// Reads `NAME.toml` (and notices `NAME.exec` beside it) into a checked `CustomDefinition`.
///
/// Every refusal is a `ConfigError` naming the file, the line and the key, because the operator
/// wrote the file by hand and has nothing else to go on.
enum DefinitionLoader {
    static let reservedColumns: Set<String> = ["id", "at", "bucket", "count", "sum", "source"]
    /// `custom_sources` and `custom_driver_schemas` are the module's own tables.
    static let reservedDriverNames: Set<String> = ["sources", "driver_schemas"]

    /// A lowercase identifier: safe as part of a table name even before it is quoted.
    static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.utf8.first, (0x61...0x7A).contains(first), s.utf8.count <= 48 else { return false }
        return s.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }
    }

    static func load(path: String, program: String?, reservedNames: Set<String>) throws(ConfigError) -> CustomDefinition {
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        guard isIdentifier(name) else {
            throw ConfigError(file: path, line: nil, "driver name '\(name)' (the file's name) must be lowercase letters, digits and '_', starting with a letter, at most 48 characters")
        }
        // custom_NAME_counts and the archives custom_NAME_vN must never be another driver's table,
        // nor custom_NAME one of the module's own.
        guard !name.hasSuffix("_counts"), name.range(of: "_v[0-9]+$", options: .regularExpression) == nil,
              !reservedDriverNames.contains(name) else {
            throw ConfigError(file: path, line: nil, "driver name '\(name)' is taken by TailWatch's tables (names may not be \(reservedDriverNames.sorted().joined(separator: " or ")), or end in '_counts' or '_v' and digits)")
        }
        guard !reservedNames.contains(name) else {
            throw ConfigError(file: path, line: nil, "'\(name)' is the name of a stock driver; name the file differently")
        }
        let file = try ConfigFile.load(path: path)
        let known = ["input", "columns", "store", "counter"]
        for table in file.tableNames where !known.contains(table) {
            throw ConfigError(file: path, line: file.section(table).headerLine, "unknown table [\(table)] (known: \(known.joined(separator: ", ")))")
        }
        let top = file.topLevel
        try top.requireOnly(["description", "version", "enabled"])
        let input = file.section("input")
        try input.requireOnly(["files", "folder", "pattern", "contains", "regex", "match_limit", "split", "fields", "answer_timeout_seconds", "time"])

        // Columns, in file order.
        let columnsSection = file.section("columns")
        var columns: [CustomColumn] = []
        for key in columnsSection.keysInFileOrder {
            let line = columnsSection.line(of: key)
            guard isIdentifier(key) else {
                throw ConfigError(file: path, line: line, "column '\(key)' in [columns] must be lowercase letters, digits and '_', starting with a letter")
            }
            guard !reservedColumns.contains(key) else {
                throw ConfigError(file: path, line: line, "column '\(key)' in [columns] is a name TailWatch uses itself (\(reservedColumns.sorted().joined(separator: ", "))); choose another")
            }
            guard let spelling = try columnsSection.string(key), let type = ColumnType(spelling: spelling) else {
                throw ConfigError(file: path, line: line, "column '\(key)' in [columns] has an unknown type; use \(ColumnType.spellings)")
            }
            columns.append(CustomColumn(name: key, type: type))
        }
        func columnIndex(_ name: String, _ section: ConfigSection, _ key: String) throws(ConfigError) -> Int {
            guard let i = columns.firstIndex(where: { $0.name == name }) else {
                throw ConfigError(file: path, line: section.line(of: key), "'\(key)' in [\(section.name)] names '\(name)', which is not a column in [columns]")
            }
            return i
        }

        // What to tail.
        var sources: [LogSource] = (try input.pathArray("files") ?? []).map { .file(($0 as NSString).standardizingPath) }
        if let folder = try input.path("folder") {
            sources.append(.folder((folder as NSString).standardizingPath, pattern: try input.string("pattern") ?? "*"))
        } else if input.line(of: "pattern") != nil {
            throw ConfigError(file: path, line: input.line(of: "pattern"), "'pattern' in [input] needs 'folder'")
        }
        guard !sources.isEmpty else {
            throw ConfigError(file: path, line: input.headerLine > 0 ? input.headerLine : nil, "[input] must name 'files' or a 'folder' to tail")
        }
        let contains = try input.string("contains").flatMap { $0.isEmpty ? nil : $0 }

        // How a line becomes values: exactly one of regex, split, or the program beside the file.
        let regex = try input.string("regex")
        let split = try input.string("split")
        let parser: CustomDefinition.Parser
        switch (regex, split, program) {
        case (let pattern?, nil, nil):
            let limit = try input.integer("match_limit", in: 1_000...100_000_000) ?? 200_000
            let compiled: LineRegex
            do {
                compiled = try LineRegex(pattern, matchLimit: UInt32(limit))
            } catch .unavailable(let why) {
                throw ConfigError(file: path, line: input.line(of: "regex"), "'regex' in [input] needs PCRE2: \(why)")
            } catch {
                throw ConfigError(file: path, line: input.line(of: "regex"), "'regex' in [input] does not compile: \(error)")
            }
            for column in columns where compiled.groups[column.name] == nil {
                throw ConfigError(file: path, line: input.line(of: "regex"), "'regex' in [input] has no named capture (?<\(column.name)>…) for column '\(column.name)'")
            }
            parser = .regex(pattern: pattern, matchLimit: UInt32(limit))
        case (nil, let separator?, nil):
            let sep: CustomDefinition.Separator
            switch separator {
            case "whitespace": sep = .blanks
            case "\\t", "\t": sep = .byte(0x09)
            default:
                guard separator.utf8.count == 1, let byte = separator.utf8.first, byte >= 0x20, byte < 0x7F else {
                    throw ConfigError(file: path, line: input.line(of: "split"), "'split' in [input] must be one printable ASCII character, \"\\t\", or \"whitespace\"")
                }
                sep = .byte(byte)
            }
            guard let names = try input.stringArray("fields"), !names.isEmpty else {
                throw ConfigError(file: path, line: input.line(of: "split"), "'split' in [input] needs 'fields': the column of each field in order, \"\" to skip one")
            }
            var fields: [String?] = []
            for field in names {
                if field.isEmpty || field == "-" { fields.append(nil); continue }
                _ = try columnIndex(field, input, "fields")
                guard !fields.contains(field) else {
                    throw ConfigError(file: path, line: input.line(of: "fields"), "'fields' in [input] names '\(field)' twice")
                }
                fields.append(field)
            }
            for column in columns where !fields.contains(column.name) {
                throw ConfigError(file: path, line: input.line(of: "fields"), "'fields' in [input] gives no field for column '\(column.name)'")
            }
            parser = .split(sep, fields: fields)
        case (nil, nil, let program?):
            let timeout = try input.integer("answer_timeout_seconds", in: 1...3600) ?? 10
            parser = .program(path: program, answerTimeout: Double(timeout))
        case (nil, nil, nil):
            throw ConfigError(file: path, line: input.headerLine > 0 ? input.headerLine : nil, "[input] needs 'regex' or 'split' (or a program \(name).exec beside this file)")
        default:
            let line = input.line(of: "regex") ?? input.line(of: "split")
            let what = program != nil ? "\(name).exec parses the lines of this driver" : "give either 'regex' or 'split'"
            throw ConfigError(file: path, line: line, "[input] has more than one way to read a line: \(what); keep one")
        }
        if program == nil, input.line(of: "answer_timeout_seconds") != nil {
            throw ConfigError(file: path, line: input.line(of: "answer_timeout_seconds"), "'answer_timeout_seconds' in [input] is for drivers with a program (\(name).exec)")
        }

        // Which timestamp dates the line.
        var timeColumn: Int?
        if let timeName = try input.string("time") {
            let i = try columnIndex(timeName, input, "time")
            guard case .timestamp = columns[i].type else {
                throw ConfigError(file: path, line: input.line(of: "time"), "'time' in [input] must name a timestamp column; '\(timeName)' is \(columns[i].type.spelling)")
            }
            timeColumn = i
        } else {
            let stamps = columns.indices.filter { if case .timestamp = columns[$0].type { true } else { false } }
            if stamps.count == 1 { timeColumn = stamps[0] }
            if stamps.count > 1 {
                throw ConfigError(file: path, line: columnsSection.headerLine, "[columns] has several timestamp columns; say which dates the line with 'time' in [input]")
            }
        }

        // What to keep.
        let counterSection = file.section("counter")
        var counter: CustomDefinition.CounterSpec?
        if counterSection.isPresent {
            try counterSection.requireOnly(["by", "bucket_minutes", "sum"])
            var by: [Int] = []
            for key in try counterSection.stringArray("by") ?? [] {
                let i = try columnIndex(key, counterSection, "by")
                guard !by.contains(i) else {
                    throw ConfigError(file: path, line: counterSection.line(of: "by"), "'by' in [counter] names '\(key)' twice")
                }
                by.append(i)
            }
            let minutes = try counterSection.integer("bucket_minutes", in: 1...1440) ?? 5
            var sum: Int?
            if let sumName = try counterSection.string("sum"), !sumName.isEmpty {
                let i = try columnIndex(sumName, counterSection, "sum")
                guard columns[i].type == .integer else {
                    throw ConfigError(file: path, line: counterSection.line(of: "sum"), "'sum' in [counter] must name an integer column; '\(sumName)' is \(columns[i].type.spelling)")
                }
                sum = i
            }
            counter = .init(by: by, bucketSeconds: Int(minutes) * 60, sum: sum)
        }
        let store = file.section("store")
        try store.requireOnly(["lines", "keep_days"])
        let storeLines = try store.bool("lines") ?? (counter == nil)
        guard storeLines || counter != nil else {
            throw ConfigError(file: path, line: store.line(of: "lines"), "this driver stores nothing: set 'lines = true' in [store] or add a [counter]")
        }
        let keepDays = Int(try store.integer("keep_days", in: 0...36_500) ?? 30)

        return CustomDefinition(
            name: name, file: file.path, description: try top.string("description") ?? "", version: try top.string("version") ?? "1",
            enabled: try top.bool("enabled") ?? true, sources: sources, contains: contains, parser: parser,
            columns: columns, timeColumn: timeColumn, storeLines: storeLines, counter: counter, keepDays: keepDays)
    }
}
