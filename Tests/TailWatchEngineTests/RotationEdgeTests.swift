import Foundation
import Testing
import TailWatchEngine
import TestSupport

/// Rotation edge cases found in review: each once lost or doubled lines.
@Suite struct RotationEdgeTests {
    @Test func aLogMissingAtStartIsCheckedAgainstItsSavedPositionWhenItReturns() throws {
        let h = EngineHarness()
        let log = h.folder.file("mainlog")
        let away = h.folder.file("unmounted")
        try FileManager.default.createDirectory(atPath: away, withIntermediateDirectories: true)
        try LogWriter.append(log, LineSets.text(LineSets.lines("a", 0..<100)))
        try h.runOnce([.file(log)])
        LogWriter.rename(log, away + "/mainlog")     // the file system is not there yet
        let engine = try h.makeEngine([.file(log)])
        _ = try engine.run()
        LogWriter.rename(away + "/mainlog", log)     // now it is
        try LogWriter.append(log, "b-after\n")
        _ = try engine.run()
        #expect(try h.storedLines() == LineSets.lines("a", 0..<100) + ["b-after"])
    }

    @Test func aRotatedCopyInAWatchedFolderIsNeverTakenForANewLog() throws {
        let h = EngineHarness()
        let logs = h.folder.file("domlogs")
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        let source = LogSource.folder(logs, pattern: "app.log*")
        try LogWriter.append(logs + "/app.log", LineSets.text(LineSets.lines("a", 0..<100)))
        try h.runOnce([source])
        LogWriter.rename(logs + "/app.log", logs + "/app.log.1")   // between rename and create
        try h.runOnce([source])
        try LogWriter.append(logs + "/app.log", "b-new\n")
        try h.runOnce([source])
        #expect(try h.storedLines() == LineSets.lines("a", 0..<100) + ["b-new"])
    }

    /// Found by the soak run: a folder's log let go of between logrotate's rename and create (it
    /// was read to its end and its path was gone) came back as a "new" log, and its saved position
    /// was inserted a second time — every commit failed from then on. It now resumes from the saved
    /// position (in the rotated copy) and goes on with the new file.
    @Test func aFolderLogLetGoOfBetweenRenameAndCreateResumesFromItsSavedPosition() throws {
        let h = EngineHarness()
        let logs = h.folder.file("domlogs")
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        let source = LogSource.folder(logs, pattern: "*")
        let a = LineSets.lines("a", 0..<50), b = LineSets.lines("b", 0..<20)
        try LogWriter.append(logs + "/site.example", LineSets.text(a))
        try h.runOnce([source])
        let engine = try h.makeEngine([source])
        _ = try engine.run()
        LogWriter.rename(logs + "/site.example", logs + "/site.example.1")
        _ = try engine.run()                                   // read to its end, path gone: let go of
        try LogWriter.append(logs + "/site.example", LineSets.text(b))
        _ = try engine.run()                                   // back at the same path
        _ = try engine.run()
        #expect(try h.storedLines() == a + b)
    }

    /// logrotate without delaycompress while the daemon is down: the unread rest of the log is
    /// only in `mainlog.1.gz` when it starts again.
    @Test func theRestOfALogCompressedWhileStoppedIsReadFromTheCompressedCopy() throws {
        let h = EngineHarness()
        let log = h.folder.file("mainlog")
        let a = LineSets.lines("a", 0..<200), b = LineSets.lines("b", 0..<50), c = LineSets.lines("c", 0..<30)
        try LogWriter.append(log, LineSets.text(Array(a.prefix(120))))
        try h.runOnce([.file(log)])
        try LogWriter.append(log, LineSets.text(Array(a.dropFirst(120))))
        LogWriter.rename(log, log + ".1")
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: FileManager.default.fileExists(atPath: "/usr/bin/gzip") ? "/usr/bin/gzip" : "/bin/gzip")
        gzip.arguments = [log + ".1"]
        try gzip.run()
        gzip.waitUntilExit()
        #expect(FileManager.default.fileExists(atPath: log + ".1.gz"))
        try LogWriter.append(log, LineSets.text(b))
        try h.runOnce([.file(log)])
        try LogWriter.append(log, LineSets.text(c))
        try h.runOnce([.file(log)])
        #expect(try h.storedLines() == a + b + c)
    }

    @Test func rotationsWhileACatchUpReadsAnOlderCopyLoseNoFile() throws {
        let h = EngineHarness()
        let log = h.folder.file("mainlog")
        let a = LineSets.lines("a", 0..<40), b = LineSets.lines("b", 0..<40), c = LineSets.lines("c", 0..<40), d = LineSets.lines("d", 0..<40)
        try LogWriter.append(log, LineSets.text(Array(a.prefix(10))))
        try h.runOnce([.file(log)])
        try LogWriter.append(log, LineSets.text(Array(a.dropFirst(10))))
        LogWriter.rename(log, log + ".1")
        try LogWriter.append(log, LineSets.text(b))
        usleep(20_000)
        // The engine starts in mainlog.1 (the rest of a) and knows mainlog as the file after it...
        let engine = try h.makeEngine([.file(log)])
        // ...and before it reads anything, logrotate runs again.
        LogWriter.rename(log + ".1", log + ".2")
        LogWriter.rename(log, log + ".1")
        try LogWriter.append(log, LineSets.text(c))
        usleep(20_000)
        LogWriter.rename(log + ".2", log + ".3")
        LogWriter.rename(log + ".1", log + ".2")
        LogWriter.rename(log, log + ".1")
        try LogWriter.append(log, LineSets.text(d))
        _ = try engine.run()
        #expect(try h.storedLines() == a + b + c + d)
    }

    @Test func aFinishedCopyKeepsItsPositionWhileTheNewLogIsNotThereYet() throws {
        let h = EngineHarness()
        let log = h.folder.file("mainlog")
        try LogWriter.append(log, LineSets.text(LineSets.lines("a", 0..<50)))
        try h.runOnce([.file(log)])
        try LogWriter.append(log, LineSets.text(LineSets.lines("b", 0..<50)))
        LogWriter.rename(log, log + ".1")            // no new mainlog yet
        try h.runOnce([.file(log)])
        try h.runOnce([.file(log)])
        try LogWriter.append(log, "c-new\n")
        try h.runOnce([.file(log)])
        #expect(try h.storedLines() == LineSets.lines("a", 0..<50) + LineSets.lines("b", 0..<50) + ["c-new"])
    }

    @Test func aSymlinkToDatedLogsIsFollowedWithoutReadingTodayTwice() throws {
        let h = EngineHarness()
        let log = h.folder.file("exim_mainlog")
        let yesterday = h.folder.file("exim_mainlog-20261130"), today = h.folder.file("exim_mainlog-20261201")
        try LogWriter.append(yesterday, "a1\na2\n")
        symlink(yesterday, log)
        try h.runOnce([.file(log)])
        try LogWriter.append(yesterday, "a3\n")
        usleep(20_000)
        try LogWriter.append(today, "b1\nb2\n")
        unlink(log)
        symlink(today, log)
        try h.runOnce([.file(log)])
        try h.runOnce([.file(log)])
        #expect(try h.storedLines() == ["a1", "a2", "a3", "b1", "b2"])
    }
}

/// A writer that never reopens its log after a rename keeps appending to the renamed file: the
/// new log at the path must still be read (after the hold), and the old file's lines up to then
/// each counted once.
@Suite struct RenamedLogWriterTests {
    @Test func aWriterThatKeepsAppendingToTheRenamedLogDoesNotStarveTheNewOne() throws {
        let h = EngineHarness()
        let log = h.folder.file("mainlog")
        let old = log + ".1"
        try LogWriter.append(log, "first\n")
        let running = h.startDaemon([.file(log)], rotationHold: .seconds(2))
        defer { try? running.stop() }
        #expect(eventually { (try? h.storedLines()) == ["first"] })

        LogWriter.rename(log, old)
        let writer = StubbornWriter(path: old)
        writer.start()
        defer { writer.stop() }
        try LogWriter.append(log, "new 1\n")
        // Read while the old file is still being written: it did not wait for the writer to stop.
        #expect(eventually(timeout: 30) { (try? h.storedLines(from: log).contains("new 1")) ?? false })
        #expect(writer.isRunning)
        writer.stop()
        try running.stop()
        #expect(h.messages.all.contains { $0.contains("a writer still appends to the old file") })
        // What was read of the old file is what the writer wrote, in order, up to some line: none twice.
        let fromOld = try h.storedLines(from: log).filter { $0.hasPrefix("stubborn ") }
        #expect(!fromOld.isEmpty)
        #expect(fromOld == (0..<fromOld.count).map { "stubborn \($0)" })
    }
}

/// Appends a numbered line every 10 ms to a file it keeps open, like a daemon that ignores rotation.
private final class StubbornWriter: @unchecked Sendable {
    private let path: String
    private let lock = NSLock()
    private var stopping = false
    private var running = false
    private let done = DispatchSemaphore(value: 0)

    init(path: String) { self.path = path }

    var isRunning: Bool { lock.withLock { running && !stopping } }

    func start() {
        lock.withLock { running = true }
        Thread { [self] in
            let fd = open(path, O_WRONLY | O_APPEND)
            var n = 0
            while !lock.withLock({ stopping }) {
                let line = "stubborn \(n)\n"
                _ = line.withCString { write(fd, $0, strlen($0)) }
                n += 1
                usleep(10_000)
            }
            close(fd)
            done.signal()
        }.start()
    }

    func stop() {
        let wait = lock.withLock { () -> Bool in
            defer { stopping = true }
            return running && !stopping
        }
        if wait { done.wait() }
    }
}
