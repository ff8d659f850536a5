import Foundation
import Testing
import TailWatchEngine
import TestSupport

/// Every rotation case the engine must survive, each on real files, once with the daemon stopped
/// across the rotation (a fresh engine, as after a restart) and once with it running (the same
/// engine reading on).
@Suite struct RotationTests {
    enum Mode: CaseIterable { case stopped, running }

    /// Runs `engine` again (running) or a fresh one (stopped).
    private func catchUp(_ h: EngineHarness, _ engine: Engine, _ mode: Mode, _ log: String) throws {
        switch mode {
        case .running: _ = try engine.run()
        case .stopped: try h.runOnce([.file(log)])
        }
    }

    @Test(arguments: Mode.allCases)
    func renameAndCreate(mode: Mode) throws {
        let h = EngineHarness()
        let log = h.folder.file("mainlog")
        let a = LineSets.lines("a", 0..<100), b = LineSets.lines("b", 0..<50), c = LineSets.lines("c", 0..<70)
        try LogWriter.append(log, LineSets.text(a))
        let engine = try h.makeEngine([.file(log)])
        _ = try engine.run()
        try LogWriter.append(log, LineSets.text(b))
        LogWriter.rename(log, log + ".1")
        // The writer still appends to the old file before it reopens.
        try LogWriter.append(log + ".1", "b-late\n")
        try LogWriter.append(log, LineSets.text(c))
        try catchUp(h, engine, mode, log)
        #expect(try h.storedLines() == a + b + ["b-late"] + c)
    }

    @Test(arguments: Mode.allCases)
    func copyTruncate(mode: Mode) throws {
        let h = EngineHarness()
        let log = h.folder.file("mainlog")
        let a = LineSets.lines("a", 0..<100), b = LineSets.lines("b", 0..<50), d = LineSets.lines("d", 0..<30)
        try LogWriter.append(log, LineSets.text(a))
        let engine = try h.makeEngine([.file(log)])
        _ = try engine.run()
        try LogWriter.append(log, LineSets.text(b))
        try LogWriter.copy(log, log + ".1")
        // Written between the copy and the truncation: destroyed by logrotate itself, never readable.
        try LogWriter.append(log, "lost-between-copy-and-truncate\n")
        LogWriter.truncate(log)
        try LogWriter.append(log, LineSets.text(d))
        try catchUp(h, engine, mode, log)
        #expect(try h.storedLines() == a + b + d)
    }

    @Test(arguments: Mode.allCases)
    func copyTruncateWhenTheNewContentOutgrowsTheOldPosition(mode: Mode) throws {
        let h = EngineHarness()
        let log = h.folder.file("mainlog")
        let a = LineSets.lines("a", 0..<10), b = LineSets.lines("b", 0..<5), d = LineSets.lines("d", 0..<300)
        try LogWriter.append(log, LineSets.text(a))
        let engine = try h.makeEngine([.file(log)])
        _ = try engine.run()
        try LogWriter.append(log, LineSets.text(b))
        try LogWriter.copy(log, log + ".1")
        LogWriter.truncate(log)
        try LogWriter.append(log, LineSets.text(d))
        try catchUp(h, engine, mode, log)
        #expect(try h.storedLines() == a + b + d)
    }

    @Test(arguments: Mode.allCases)
    func truncateInPlaceThenWriteMoreThanTheOldOffset(mode: Mode) throws {
        let h = EngineHarness()
        let log = h.folder.file("app.log")
        let a = LineSets.lines("a", 0..<20), e = LineSets.lines("e", 0..<200, padding: 20)
        try LogWriter.append(log, LineSets.text(a))
        let engine = try h.makeEngine([.file(log)])
        _ = try engine.run()
        LogWriter.truncate(log)
        try LogWriter.append(log, LineSets.text(e))
        try catchUp(h, engine, mode, log)
        #expect(try h.storedLines() == a + e)
        #expect(h.messages.all.contains { $0.contains("truncated") || $0.contains("matches no current") })
    }

    @Test(arguments: Mode.allCases)
    func deleteAndRecreateWithTheSameFirstLine(mode: Mode) throws {
        let h = EngineHarness()
        let log = h.folder.file("app.log")
        try LogWriter.append(log, "header\nold-1\nold-2\n")
        let engine = try h.makeEngine([.file(log)])
        _ = try engine.run()
        // Delete and recreate until the inode repeats (or give up after a few tries: content decides either way).
        let oldInode = FileIdentity.of(path: log)!.inode
        for _ in 0..<20 {
            LogWriter.remove(log)
            try LogWriter.append(log, "header\nnew-1\nnew-2\nnew-3\n")
            if FileIdentity.of(path: log)!.inode == oldInode { break }
        }
        try catchUp(h, engine, mode, log)
        #expect(try h.storedLines() == ["header", "old-1", "old-2", "header", "new-1", "new-2", "new-3"])
    }

    @Test func severalRotationsWhileStopped() throws {
        let h = EngineHarness()
        let log = h.folder.file("mainlog")
        let a = LineSets.lines("a", 0..<40), b = LineSets.lines("b", 0..<40), c = LineSets.lines("c", 0..<40), d = LineSets.lines("d", 0..<40)
        try LogWriter.append(log, LineSets.text(a))
        try h.runOnce([.file(log)])
        try LogWriter.append(log, LineSets.text(b))
        LogWriter.rename(log, log + ".1")
        try LogWriter.append(log, LineSets.text(c))
        usleep(20_000) // distinct modification times, as real rotations have
        LogWriter.rename(log + ".1", log + ".2")
        LogWriter.rename(log, log + ".1")
        try LogWriter.append(log, LineSets.text(d))
        try h.runOnce([.file(log)])
        #expect(try h.storedLines() == a + b + c + d)
        // And nothing more on the next start.
        try h.runOnce([.file(log)])
        #expect(try h.storedLines().count == 160)
    }

    @Test func rotationOfAFileThatEndsInAPartialLine() throws {
        let h = EngineHarness()
        let log = h.folder.file("mainlog")
        try LogWriter.append(log, "one\ntwo-unfinished")
        let engine = try h.makeEngine([.file(log)])
        _ = try engine.run()
        LogWriter.rename(log, log + ".1")
        try LogWriter.append(log, "three\n")
        _ = try engine.run()
        #expect(try h.storedLines() == ["one", "two-unfinished", "three"])
    }
}
