import Foundation
import Testing
import TailWatchEngine
import TestSupport

/// The tailer and the engine on real files: complete lines only, exactly once across restarts.
@Suite struct TailingTests {
    @Test func readsCompleteLinesAndKeepsThePartialLastLineForLater() throws {
        let h = EngineHarness()
        let log = h.folder.file("app.log")
        try LogWriter.append(log, "one\ntwo\nthr")
        try h.runOnce([.file(log)])
        #expect(try h.storedLines() == ["one", "two"])
        // The partial line survives a restart and is read once complete.
        try LogWriter.append(log, "ee\nfour\n")
        try h.runOnce([.file(log)])
        #expect(try h.storedLines() == ["one", "two", "three", "four"])
    }

    /// A backlog of several read chunks, each read ahead while the one before it is handed out:
    /// lines of uneven length straddle every chunk boundary, commits fail twice while a read is in
    /// flight, and a restart after more lines were appended resumes exactly where the last commit
    /// stood (its checkpoint hashes the bytes before the position, which crossed buffers).
    @Test func aBacklogReadAheadChunkByChunkIsExactAcrossFailedCommitsAndARestart() throws {
        let h = EngineHarness()
        h.settings.catchUpBatchEvents = 7_000
        let log = h.folder.file("app.log")
        let padding = String(repeating: "x", count: 400)
        func lines(_ range: Range<Int>) -> [String] { range.map { "line \($0) " + padding.prefix($0 * 37 % 390) } }
        let first = lines(0..<30_000)
        try LogWriter.append(log, first.joined(separator: "\n") + "\n")
        #expect(try FileManager.default.attributesOfItem(atPath: log)[.size] as! Int > 5 << 20)
        #expect(try h.runThroughFailedCommits([.file(log)], failing: 2) == 2)
        #expect(try h.storedLines() == first)
        let more = lines(30_000..<40_000)
        try LogWriter.append(log, more.joined(separator: "\n") + "\n")
        try h.runOnce([.file(log)])
        #expect(try h.storedLines() == first + more)
    }

    @Test func runningOnceTwiceChangesNothingTheSecondTime() throws {
        let h = EngineHarness()
        let log = h.folder.file("app.log")
        try LogWriter.append(log, LineSets.text(LineSets.lines("a", 0..<500)))
        try h.runOnce([.file(log)])
        let first = try h.storedLines()
        try h.runOnce([.file(log)])
        #expect(try h.storedLines() == first)
        #expect(first.count == 500)
    }

    @Test func crlfLineEndsAreStripped() throws {
        let h = EngineHarness()
        let log = h.folder.file("app.log")
        try LogWriter.append(log, "dos\r\nunix\n")
        try h.runOnce([.file(log)])
        #expect(try h.storedLines() == ["dos", "unix"])
    }

    @Test func aFileMissingAtStartIsWaitedForAndReadWhenItAppears() throws {
        let h = EngineHarness()
        let log = h.folder.file("late.log")
        let engine = try h.makeEngine([.file(log)])
        _ = try engine.run()
        #expect(try h.storedLines().isEmpty)
        #expect(h.messages.all.contains { $0.contains("does not exist yet") })
        try LogWriter.append(log, "hello\n")
        _ = try engine.run()
        #expect(try h.storedLines() == ["hello"])
    }

    @Test func newFilesInAWatchedFolderArePickedUp() throws {
        let h = EngineHarness()
        let logs = h.folder.file("domlogs")
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        try LogWriter.append(logs + "/a.example", "a1\n")
        let engine = try h.makeEngine([.folder(logs, pattern: "*.example*")])
        _ = try engine.run()
        try LogWriter.append(logs + "/b.example", "b1\n")
        try LogWriter.append(logs + "/b.example.1", "rotated copy, not a log of its own\n")
        try LogWriter.append(logs + "/notes.txt", "not matching\n")
        try h.runOnce([.folder(logs, pattern: "*.example*")])
        #expect(try Set(h.storedLines()) == ["a1", "b1"])
    }
}
