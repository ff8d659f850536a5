import Foundation
import GRDB
import Testing
import TailWatchEngine
import TestSupport

/// Garbage in a log never crashes the engine, never becomes data, is counted, and the rest of the
/// file is still read.
@Suite struct BadInputTests {
    private func counters(_ h: EngineHarness) throws -> (read: Int64, events: Int64, rejected: Int64, ignored: Int64) {
        let queue = try h.openDatabase()
        return try queue.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT lines_read, events_written, lines_rejected, lines_ignored FROM driver_stats WHERE driver = 'recorder'")!
            return (row[0], row[1], row[2], row[3])
        }
    }

    @Test func overlongLinesAreCountedAndSkippedWithoutLosingTheirNeighbours() throws {
        let h = EngineHarness()
        h.settings.maxLineBytes = 4096
        let log = h.folder.file("app.log")
        let long = String(repeating: "x", count: 100_000)
        try LogWriter.append(log, "before\n\(long)\nafter\n")
        try h.runOnce([.file(log)])
        #expect(try h.storedLines() == ["before", "after"])
        let c = try counters(h)
        #expect(c.read == 3 && c.events == 2 && c.rejected == 1)
        #expect(h.messages.all.contains { $0.contains("longer than max_line_bytes") })
    }

    @Test func aTenMegabyteLineWithoutNewlineIsNeverBufferedWholeAndNeverBecomesALine() throws {
        let h = EngineHarness()
        let log = h.folder.file("app.log")
        try LogWriter.append(log, "first\n")
        try LogWriter.append(log, [UInt8](repeating: 0x41, count: 10 << 20))
        try h.runOnce([.file(log)])
        #expect(try h.storedLines() == ["first"])
        // Its end arrives later, after a restart: still one rejected line, then normal lines.
        try LogWriter.append(log, "tail-of-the-long-line\nsecond\n")
        try h.runOnce([.file(log)])
        #expect(try h.storedLines() == ["first", "second"])
        #expect(try counters(h).rejected == 1)
    }

    @Test func nulBytesAreRejectedAndInvalidUTF8DoesNotStopTheFile() throws {
        let h = EngineHarness()
        let log = h.folder.file("app.log")
        var bytes = Array("ok-1\n".utf8)
        bytes += [0x66, 0x00, 0x67, 0x0A]                 // f NUL g
        bytes += [0xC3, 0x28, 0xFF, 0xFE, 0x0A]           // invalid UTF-8
        bytes += Array("BAD line the driver rejects\n# comment the driver ignores\nok-2\n".utf8)
        try LogWriter.append(log, bytes)
        try h.runOnce([.file(log)])
        let lines = try h.storedLines()
        #expect(lines.first == "ok-1" && lines.last == "ok-2")
        #expect(lines.count == 3) // the invalid UTF-8 line is the driver's to judge; this one stores it
        let c = try counters(h)
        #expect(c.read == 6 && c.rejected == 2 && c.ignored == 1)
        let reasons = try h.openDatabase().read { db in
            try String.fetchAll(db, sql: "SELECT reason FROM rejected_lines ORDER BY reason")
        }
        #expect(reasons == ["NUL byte in line", "test: starts with BAD"])
    }

    @Test func warningsAreRateLimitedPerReason() throws {
        let h = EngineHarness()
        let log = h.folder.file("app.log")
        try LogWriter.append(log, LineSets.text(Array(repeating: "BAD", count: 1000)) + "fine\n")
        try h.runOnce([.file(log)])
        let warnings = h.messages.all.filter { $0.contains("rejected line") }
        #expect(warnings.count == 1)
        #expect(try counters(h).rejected == 1000)
        #expect(try h.storedLines() == ["fine"])
    }

    @Test func aFailedCommitIsRolledBackAndTheSameLinesAreReadAgainOnce() throws {
        let h = EngineHarness()
        h.settings.batchEvents = 30
        h.settings.catchUpBatchEvents = 30
        let log = h.folder.file("app.log")
        let lines = LineSets.lines("a", 0..<100)
        try LogWriter.append(log, LineSets.text(lines))
        let failures = FailureCounter(0)
        let engine = try h.makeEngine([.file(log)], failingCommits: failures)
        failures.set(2)
        #expect(throws: StoreError.self) { _ = try engine.run() }
        #expect(throws: StoreError.self) { _ = try engine.run() }
        _ = try engine.run()
        #expect(try h.storedLines() == lines)
        let counted = try h.openDatabase().read { db in try Int.fetchOne(db, sql: "SELECT lines_read FROM driver_stats") }
        #expect(counted == 100)
    }

    @Test func aDeletedFolderLogThatWasReadToItsEndIsLetGo() throws {
        let h = EngineHarness()
        let logs = h.folder.file("domlogs")
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        try LogWriter.append(logs + "/old.example", "o1\n")
        let engine = try h.makeEngine([.folder(logs, pattern: "*.example")], once: true)
        _ = try engine.run()
        LogWriter.remove(logs + "/old.example")
        try LogWriter.append(logs + "/new.example", "n1\n")
        _ = try engine.run()
        #expect(try Set(h.storedLines()) == ["o1", "n1"])
        #expect(h.messages.all.contains { $0.contains("old.example is gone and fully read") })
    }
}
