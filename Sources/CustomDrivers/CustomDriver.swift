import Foundation
import GRDB
import Logging
import TailWatchEngine

/// A driver an operator defined in `drivers_dir` (a `NAME.toml`, perhaps with a `NAME.exec`):
/// each line that passes the literal pre-filter is parsed by the regex, the field splitter or the
/// external program into typed columns, stored as a row and/or counted per key and time bucket,
/// inside the engine's batch transaction like any stock driver's effects.
final class CustomDriver: LogDriver {
    private let definition: CustomDefinition
    private let logger: Logger
    private let filter: LiteralFilter?
    private let regex: LineRegex?
    /// Capture group of each column (regex) or column of each field (split).
    private let groups: [Int]
    private let fieldColumns: [Int?]
    private let program: ExternalProgram?
    private var values: ColumnValues
    private var insertLine: PreparedStatement?
    private var upsertCount: PreparedStatement?
    private var counts: [CounterKey: (count: Int64, sum: Int64)] = [:]
    /// Lines and counter buckets older than `keep_days`, purged by the engine in slices (set by
    /// `open`, once the tables exist).
    private(set) var retention: [RetentionRule] = []
    /// An external driver: how often each line (by hash) broke a fresh program (see `ask`).
    private var pausesByLine: [UInt64: Int] = [:]
    /// Whether the program answered a line since the last line it was blamed for (see `ask`).
    private var answeredSinceRejection = false
    private let afterCommit: AfterCommit
    /// `custom_sources.id` of each file this run has stored lines from (by the engine's file id);
    /// forgotten on rollback, since a number given inside the batch is rolled back with it.
    private var sourceNumbers: [Int: Int64] = [:]
    private var findSource: PreparedStatement?
    private var addSource: PreparedStatement?

    /// One reason per column, built once so a rejected line costs no string.
    private let badValue: [RejectReason]
    private static let regexLimit = RejectReason("the regex hit its match limit (it backtracks too much on this line)")
    private static let regexFailed = RejectReason("the regex failed on this line")
    private static let malformedAnswer = RejectReason("the program's answer is not a JSON object, array of objects or null")
    private static let programFailed = RejectReason("the program failed on this line")

    /// `db`: the connection the engine writes with (the definition's tables are evolved and the
    /// statements prepared on it).
    init(definition: CustomDefinition, context: DriverContext, db: Database) throws {
        self.definition = definition
        logger = context.logger
        afterCommit = context.afterCommit
        filter = definition.contains.flatMap(LiteralFilter.init)
        values = ColumnValues(columns: definition.columns, zone: context.settings.timezone)
        badValue = definition.columns.map { RejectReason("column '\($0.name)' is not \($0.type.spelling == "ip" ? "an ip address" : "a valid \($0.type.spelling)")") }
        switch definition.parser {
        case .regex(let pattern, let limit):
            let compiled = try LineRegex(pattern, matchLimit: limit)
            regex = compiled
            groups = definition.columns.map { compiled.groups[$0.name] ?? 0 }
            fieldColumns = []
            program = nil
            if !compiled.usesJIT { logger.info("PCRE2's JIT is not available here; the regex runs interpreted") }
        case .split(_, let fields):
            regex = nil
            groups = []
            fieldColumns = fields.map { name in name.flatMap { n in definition.columns.firstIndex { $0.name == n } } }
            program = nil
        case .program(let path, let timeout):
            regex = nil
            groups = []
            fieldColumns = []
            program = ExternalProgram(path: path, timeout: timeout, logger: context.logger)
        }
        try prepare(db)
    }

    /// The tables as the definition wants them, its statements, and its retention. The statements
    /// stay optional: a definition without stored lines or without a counter has no use for them.
    private func prepare(_ db: Database) throws {
        let plan = try SchemaEvolution.apply(db, definition: definition)
        for change in plan.changes { logger.info("schema: \(change)") }
        for note in plan.notes { logger.warning("schema: \(note)") }
        let columns = definition.columns
        if definition.storeLines {
            let names = (["at", "source"] + columns.map(\.name)).map(quoted).joined(separator: ", ")
            let marks = (1...(columns.count + 2)).map { "?\($0)" }.joined(separator: ", ")
            insertLine = try PreparedStatement(db, sql: "INSERT INTO \(quoted(definition.linesTable)) (\(names)) VALUES (\(marks))")
            findSource = try PreparedStatement(db, sql: "SELECT id FROM custom_sources WHERE path = ?1")
            addSource = try PreparedStatement(db, sql: "INSERT INTO custom_sources (path) VALUES (?1)")
        }
        if let counter = definition.counter {
            let keys = ["bucket"] + counter.by.map { quoted(columns[$0].name) }
            let marks = (1...(keys.count + 2)).map { "?\($0)" }.joined(separator: ", ")
            upsertCount = try PreparedStatement(db, sql: """
                INSERT INTO \(quoted(definition.countsTable)) (\(keys.joined(separator: ", ")), count, sum) VALUES (\(marks))
                ON CONFLICT (\(keys.joined(separator: ", "))) DO UPDATE SET count = count + excluded.count, sum = sum + excluded.sum
                """)
        }
        if definition.keepDays > 0 {
            let keep = Int64(definition.keepDays) * 86400
            let cutoff: @Sendable (Date) -> Int64? = { now in Int64(now.timeIntervalSince1970) - keep }
            if definition.storeLines {
                retention.append(RetentionRule(label: "\(definition.name) lines", table: quoted(definition.linesTable), column: "at", key: ["id"], cutoff: cutoff))
            }
            if let counter = definition.counter {
                retention.append(RetentionRule(
                    label: "\(definition.name) counter buckets", table: quoted(definition.countsTable), column: "bucket",
                    key: ["bucket"] + counter.by.map { quoted(columns[$0].name) }, cutoff: cutoff))
            }
        }
    }

    /// While its program waits to be restarted, an external driver's files wait too.
    var acceptsLines: Bool { !(program?.isRestarting ?? false) }

    func ingest(_ line: ByteLine, from source: SourceFile) throws -> LineOutcome {
        if let filter, !filter.passes(line) { return .ignored }
        if let regex {
            switch regex.match(line) {
            case .matched: break
            case .noMatch: return .ignored
            case .limitExceeded: return .rejected(Self.regexLimit)
            case .failed: return .rejected(Self.regexFailed)
            }
            for i in groups.indices where !values.set(i, bytes: regex.capture(groups[i], in: line)) {
                return .rejected(badValue[i])
            }
            try record(source: source)
            return .stored(events: 1)
        }
        if let program { return try ask(program, line, source: source) }
        if let bad = split(line) { return .rejected(badValue[bad]) }
        try record(source: source)
        return .stored(events: 1)
    }

    /// Fills the columns from the line's fields; returns the column whose value did not convert.
    private func split(_ line: ByteLine) -> Int? {
        guard case .split(let separator, _) = definition.parser else { return nil }
        for i in values.columns.indices { _ = values.set(i, bytes: nil) }
        var field = 0, i = 0
        let n = line.count
        while field < fieldColumns.count {
            if separator == .blanks { while i < n, line[i] == 0x20 || line[i] == 0x09 { i += 1 } }
            if i >= n && separator == .blanks { break }
            var end = i
            switch separator {
            case .blanks: while end < n, line[end] != 0x20, line[end] != 0x09 { end += 1 }
            case .byte(let b): end = line.firstIndex(of: b, from: i) ?? n
            }
            if let column = fieldColumns[field], !values.set(column, bytes: line.slice(i..<end)) { return column }
            field += 1
            if end >= n { break }
            i = end + 1
        }
        return nil
    }

    /// An external driver's line: the program's answer is null (nothing), an object (one event) or
    /// an array of objects (several).
    private func ask(_ program: ExternalProgram, _ line: ByteLine, source: SourceFile) throws -> LineOutcome {
        // Whether the line goes to a program that has been answering (else: a fresh one).
        let proven = program.isProven
        var answer = program.ask(line)
        if case .failure(let failure) = answer, proven, failure.reachedTheProgram, !program.isRestarting {
            // A program that was working died or hung on this line: restarted at once, the line
            // gets a second chance. If it kills the fresh program too, it is the line's fault.
            answer = program.ask(line)
            if case .failure(let again) = answer, again.reachedTheProgram {
                return rejectForProgram(line, source: source, again)
            }
        }
        let bytes: [UInt8]
        switch answer {
        case .success(let b):
            bytes = b
            answeredSinceRejection = true
            if !pausesByLine.isEmpty { pausesByLine[Self.hash(line)] = nil }
        case .failure(let failure):
            let key = Self.hash(line)
            if failure.reachedTheProgram {
                // A fresh program died or hung before its first answer: the program is broken, or
                // this line breaks it. Five times running, and it is the line's fault — provided
                // the program has answered some line since the last line it was blamed for; a
                // program that answers nothing at all is broken, and its lines wait for a fix.
                let pauses = min(5, (pausesByLine[key] ?? 0) + 1)
                if pauses >= 5 && answeredSinceRejection { return rejectForProgram(line, source: source, failure) }
                if pausesByLine.count >= 1000 { pausesByLine.removeAll() }
                pausesByLine[key] = pauses
            }
            // The program is not running (it cannot start, or waits out its backoff: 0, 1, 2, 4 …
            // 60 s): the line waits, and the batch is redone without this driver's files.
            throw DriverPaused("\(definition.name): \(failure); its lines wait until it runs again")
        }
        let events: [[String: JSONValue]]
        switch try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)) {
        case .null?: return .ignored
        case .object(let o)?: events = o.isEmpty ? [] : [o]
        case .array(let items)?:
            var objects: [[String: JSONValue]] = []
            for item in items {
                guard case .object(let o) = item else { return .rejected(Self.malformedAnswer) }
                objects.append(o)
            }
            events = objects
        default:
            return .rejected(Self.malformedAnswer)
        }
        if events.isEmpty { return .ignored }
        // Every event is checked before any is recorded, so a line is all or nothing.
        var checked: [ColumnValues] = []
        for event in events {
            for i in values.columns.indices where !values.set(i, json: event[values.columns[i].name]) {
                return .rejected(badValue[i])
            }
            checked.append(values)
        }
        for event in checked {
            values = event
            try record(source: source)
        }
        return .stored(events: events.count)
    }

    /// Rejects a line that kills or hangs the program (counted, logged); the program gets a fresh
    /// start at once for the next line. The line's pause count is forgotten only once the
    /// rejection is committed: a rolled-back batch rejects it again straight away.
    private func rejectForProgram(_ line: ByteLine, source: SourceFile, _ failure: ExternalProgram.Failure) -> LineOutcome {
        program?.forgiveFailures()
        answeredSinceRejection = false
        let key = Self.hash(line)
        pausesByLine[key] = 5
        // Its count goes once the rejection is committed.
        afterCommit.add("\(definition.name): forgetting a rejected line") { self.pausesByLine[key] = nil }
        logger.warning("\(source.path): line not processed: \(failure)")
        return .rejected(Self.programFailed)
    }

    private static func hash(_ line: ByteLine) -> UInt64 {
        FNV1a.hash(UnsafeRawBufferPointer(start: line.base, count: line.count))
    }

    /// Writes the current values: a row, and/or one more in the counter's bucket.
    @inline(__always)
    private func record(source: SourceFile) throws {
        let at = definition.timeColumn.flatMap { values.integer(at: $0) } ?? Int64(Date().timeIntervalSince1970)
        if let insertLine {
            insertLine.bind(1, at)
            insertLine.bind(2, try sourceNumber(source))
            for i in values.columns.indices { values.bind(i, to: insertLine, at: Int32(i + 3)) }
            try insertLine.run()
        }
        if let counter = definition.counter {
            let bucket = at - ((at % Int64(counter.bucketSeconds)) + Int64(counter.bucketSeconds)) % Int64(counter.bucketSeconds)
            let key = CounterKey(parts: counter.by.map { values.keyPart($0) }, bucket: bucket)
            let add = counter.sum.flatMap { values.integer(at: $0) } ?? 0
            Self.add(add, to: &counts[key, default: (0, 0)])
        }
    }

    private func sourceNumber(_ source: SourceFile) throws -> Int64 {
        if let known = sourceNumbers[source.id] { return known }
        guard let findSource, let addSource else { return 0 }
        findSource.bind(1, source.path)
        var number = try findSource.queryRow { $0.int64(0) }
        if number == nil {
            addSource.bind(1, source.path)
            try addSource.run()
            number = try findSource.queryRow { $0.int64(0) }
        }
        sourceNumbers[source.id] = number ?? 0
        return number ?? 0
    }

    @inline(__always)
    private static func add(_ value: Int64, to entry: inout (count: Int64, sum: Int64)) {
        entry.count += 1
        entry.sum &+= value
    }

    func flush(_ db: Database) throws {
        guard let upsertCount, !counts.isEmpty else { return }
        for (key, total) in counts {
            upsertCount.bind(1, key.bucket)
            var p: Int32 = 2
            for part in key.parts {
                switch part {
                case .integer(let n): upsertCount.bind(p, n)
                case .text(let s): upsertCount.bind(p, s)
                }
                p += 1
            }
            upsertCount.bind(p, total.count)
            upsertCount.bind(p + 1, total.sum)
            try upsertCount.run()
        }
        counts.removeAll(keepingCapacity: true)
    }

    func rollback() {
        counts.removeAll(keepingCapacity: true)
        sourceNumbers.removeAll()
    }

    func close() {
        insertLine = nil
        upsertCount = nil
        findSource = nil
        addSource = nil
        program?.stop()
    }
}
