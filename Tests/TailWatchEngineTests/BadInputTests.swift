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

    /// A line exactly `max_line_bytes` long whose CRLF arrives in two writes (the read ends
    /// between CR and LF): still a line, not a too-long one; one byte more is too long.
    @Test func aLineOfExactlyTheLimitStaysALineWhenItsCRLFIsSplit() throws {
        let h = EngineHarness()
        h.settings.maxLineBytes = 1024
        let log = h.folder.file("app.log")
        let fits = String(repeating: "f", count: 1024), over = String(repeating: "o", count: 1025)
        // One engine throughout (as the daemon): what it made of the partial line carries over.
        let engine = try h.makeEngine([.file(log)])
        try LogWriter.append(log, "before\r\n\(fits)\r")
        _ = try engine.run()
        try LogWriter.append(log, "\n\(over)\r")
        _ = try engine.run()
        try LogWriter.append(log, "\nafter\r\n")
        _ = try engine.run()
        #expect(try h.storedLines() == ["before", fits, "after"])
        let c = try counters(h)
        #expect(c.read == 4 && c.rejected == 1)
    }

    /// A driver that walks only part of each block: the lines it leaves are handed to its
    /// per-line `ingest`, none is committed unread.
    @Test func linesADriverLeavesInABlockAreStillInterpreted() throws {
        final class OneLinePerBlock: LogDriver {
            let seen: LockedMessages
            init(_ seen: LockedMessages) { self.seen = seen }
            func ingest(_ line: ByteLine, from source: SourceFile) throws -> LineOutcome {
                seen.append(line.string)
                return line.hasPrefix("BAD") ? .rejected(RejectReason("test: bad")) : .stored(events: 1)
            }
            func ingest(_ block: inout LineBlock, from source: SourceFile) throws {
                if let line = block.next() { block.record(try ingest(line, from: source)) }
            }
        }
        let h = EngineHarness()
        let log = h.folder.file("app.log")
        let lines = (0..<2000).map { $0 % 100 == 7 ? "BAD \($0)" : "line \($0)" }
        try LogWriter.append(log, lines.joined(separator: "\n") + "\n")
        let seen = LockedMessages()
        let engine = try Engine(
            settings: h.settings, database: h.openDatabase(),
            drivers: [(name: "recorder", configured: ConfiguredDriver(enabled: true, sources: [.file(log)]) { _, _ in OneLinePerBlock(seen) })],
            options: EngineOptions(once: true), control: EngineControl(), logger: h.logger("TailWatch")
        ) { h.logger($0) }
        _ = try engine.run()
        #expect(seen.all == lines)
        let c = try counters(h)
        #expect(c.read == 2000 && c.events == 1980 && c.rejected == 20)
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
        #expect(try h.runThroughFailedCommits([.file(log)], failing: 2) == 2)
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
