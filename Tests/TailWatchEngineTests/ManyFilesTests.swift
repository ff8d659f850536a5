import Foundation
import Testing
import TailWatchEngine
import TestSupport

/// A folder of more logs than the engine may hold open (a hosting server's domlogs against the
/// open files limit): idle files are closed and reopened by content, and every line still counts
/// exactly once, including lines of files rotated while they were closed.
@Suite struct ManyFilesTests {
    /// Descriptors this process holds open on files under `folder` (from /proc, the kernel's own count).
    private func openDescriptors(under folder: String) -> Int {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.filter { fd in
            ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")) ?? "").hasPrefix(folder + "/")
        }.count
    }

    @Test func filesClosedForTheBudgetAreRotatedTruncatedAndAppendedWithoutLossOrDoubles() throws {
        let h = EngineHarness()
        let logs = h.folder.file("domlogs")
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        let paths = (0..<12).map { "\(logs)/site\($0).example" }
        var expected: [String: [String]] = [:]
        func append(_ i: Int, _ lines: [String]) throws {
            try LogWriter.append(paths[i], LineSets.text(lines))
            expected[paths[i], default: []] += lines
        }
        for i in paths.indices { try append(i, LineSets.lines("a\(i)-", 0..<20)) }
        let sources: [LogSource] = [.folder(logs, pattern: "*")]
        let engine = try h.makeEngine(sources, maxOpenFiles: 4)
        _ = try engine.run()
        for path in paths { #expect(try h.storedLines(from: path) == expected[path]) }
        #expect(openDescriptors(under: logs) <= 4)

        for i in 0..<4 {
            // Rename rotation of a closed file; its writer appends to the old file before reopening.
            try append(i, LineSets.lines("b\(i)-", 0..<5))
            LogWriter.rename(paths[i], paths[i] + ".1")
            try LogWriter.append(paths[i] + ".1", "late\(i)\n")
            expected[paths[i], default: []].append("late\(i)")
            try append(i, LineSets.lines("c\(i)-", 0..<7))
        }
        for i in 4..<8 {
            // copytruncate of a closed file.
            try append(i, LineSets.lines("b\(i)-", 0..<5))
            try LogWriter.copy(paths[i], paths[i] + ".1")
            LogWriter.truncate(paths[i])
            try append(i, LineSets.lines("c\(i)-", 0..<300))
        }
        for i in 8..<12 { try append(i, LineSets.lines("b\(i)-", 0..<9)) }
        _ = try engine.run()
        for path in paths { #expect(try h.storedLines(from: path) == expected[path]) }
        #expect(openDescriptors(under: logs) <= 4)

        // A restart reads on from the saved positions, the budget still held.
        for i in paths.indices { try append(i, LineSets.lines("d\(i)-", 0..<3)) }
        _ = try h.makeEngine(sources, maxOpenFiles: 4).run()
        for path in paths { #expect(try h.storedLines(from: path) == expected[path]) }
    }

    @Test func aRunningEngineWithFewDescriptorsFollowsWritesAndRotationsAcrossManyFiles() throws {
        let h = EngineHarness()
        let logs = h.folder.file("domlogs")
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        let paths = (0..<30).map { "\(logs)/d\($0).example-ssl_log" }
        for path in paths { try LogWriter.append(path, "start \(path)\n") }
        let running = h.startDaemon([.folder(logs, pattern: "*")], maxOpenFiles: 5)
        // Started: every file was read once (most then closed again for the budget).
        #expect(eventually { ((try? h.storedLines().count) ?? 0) == paths.count })
        var random = SeededGenerator(seed: 14)
        var written = 0
        var all = paths.map { "start \($0)" }
        for step in 0..<600 {
            let i = Int.random(in: 0..<paths.count, using: &random)
            try LogWriter.append(paths[i], "line \(step)\n")
            all.append("line \(step)")
            written += 1
            if step % 97 == 96 {
                LogWriter.rename(paths[i], paths[i] + ".\(step)")
                try LogWriter.append(paths[i], "after rotation \(step)\n")
                all.append("after rotation \(step)")
                written += 1
            }
            if step % 50 == 0 { usleep(20_000) }
        }
        #expect(eventually { ((try? h.storedLines().count) ?? 0) == written + paths.count })
        try running.stop()
        let stored = try h.storedLines()
        #expect(stored.count == written + paths.count)
        #expect(Set(all).subtracting(stored).sorted() == [])
        #expect(Set(stored).count == stored.count)
        #expect(openDescriptors(under: logs) == 0)
    }
}
