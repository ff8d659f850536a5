import Foundation
import Testing
import TestSupport

/// A domlogs folder with more files than the process may open (a hosting server's open files
/// limit below its number of domlogs): the real daemon closes idle logs and reopens them by content,
/// and every byte still counts exactly once, across rotations made while files were closed.
@Suite struct OpenFilesLimitTests {
    /// `tailwatchd --once` under `ulimit -n limit` (soft and hard), as an operator's shell would start it.
    private func runOnce(_ f: DaemonFixture, openFiles limit: Int) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -n \(limit) && exec \"$0\" --once --config \"$1\"",
                             DaemonFixture.binaryFolder + "/tailwatchd", f.configPath]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test func moreDomlogsThanTheOpenFilesLimitAreCountedExactly() throws {
        let f = try DaemonFixture(extraTopLevel: """
            [cpbandwd]
            domlogs = "domlogs"
            """)
        let logs = f.folder.file("domlogs")
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        // 600 logs against a limit of 300: the engine keeps 256 for everything else, so it may hold 44.
        let paths = (0..<300).flatMap { ["\(logs)/site\($0).example", "\(logs)/site\($0).example-ssl_log"] }
        var written = 0
        func append(_ path: String, _ count: Int, size: Int) throws {
            var text = ""
            for n in 0..<count {
                text += "203.0.113.\(n % 250) - - [06/Dec/2026:02:00:00 +0000] \"GET /p\(n) HTTP/1.1\" 200 \(size) \"-\" \"t\"\n"
                written += size
            }
            try LogWriter.append(path, text)
        }
        for (i, path) in paths.enumerated() { try append(path, 2, size: 100 + i) }
        #expect(try runOnce(f, openFiles: 300) == 0)
        let first: Int? = try f.query("SELECT sum(bytes) FROM bandwidth_monthly")
        #expect(first == written)

        // Rotations of files the last run closed, then new lines everywhere.
        for path in paths.prefix(50) { LogWriter.rename(path, path + ".1") }
        for (i, path) in paths.enumerated() { try append(path, 1 + i % 3, size: 7) }
        #expect(try runOnce(f, openFiles: 300) == 0)
        let second: Int? = try f.query("SELECT sum(bytes) FROM bandwidth_monthly")
        #expect(second == written)
        #expect(!f.daemonLog.contains("lost"))
        #expect(!f.daemonLog.contains("Too many open files"))
    }
}
