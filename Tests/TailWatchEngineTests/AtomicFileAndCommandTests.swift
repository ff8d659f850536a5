import Foundation
import Logging
import Testing
import TailWatchEngine
import TestSupport

/// Files other programs read, replaced whole; operators' commands, bounded.
@Suite struct AtomicFileAndCommandTests {
    @Test func aReplacedFileKeepsItsOwnerAndTakesTheMode() throws {
        let folder = TemporaryFolder("atomic")
        let path = try folder.write("list", "old\n")
        let owner: (uid_t, gid_t) = getuid() == 0 ? (1, 1) : (getuid(), getgid())
        if getuid() == 0 { #expect(chown(path, 1, 1) == 0) }
        #expect(try AtomicFile.write("new\n", to: path, mode: 0o640) == .written)
        var info = stat()
        #expect(lstat(path, &info) == 0)
        #expect(info.st_uid == owner.0 && info.st_gid == owner.1)
        #expect(info.st_mode & 0o7777 == 0o640)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new\n")
        #expect(try AtomicFile.write("new\n", to: path, mode: 0o640) == .unchanged)
        #expect(try AtomicFile.write("new\n", to: path, mode: 0o644) == .written, "a mode change is a change")
        #expect(throws: AtomicFile.Failure.self) { try AtomicFile.write("x", to: folder.file("no/such/folder/list")) }
    }

    @Test func commandsAreBoundedInTimeAndOutput() throws {
        let ok = try BoundedCommand.shell("echo hello; echo oops >&2; exit 3", timeout: 10)
        #expect(ok.exitStatus == 3 && !ok.timedOut && ok.output == "hello\noops\n" && !ok.truncated)
        let chatty = try BoundedCommand.shell("yes | head -c 100000", timeout: 10, outputLimit: 100)
        #expect(chatty.output.count == 100 && chatty.truncated && chatty.succeeded)
        // A command that outlives its timeout is stopped with its children (the whole group).
        let folder = TemporaryFolder("bounded")
        let marker = folder.file("child.pid")
        let slow = try BoundedCommand.shell("sleep 30 & echo $! > '\(marker)'; wait", timeout: 0.5)
        #expect(slow.timedOut && slow.exitStatus == nil && !slow.succeeded)
        let child = pid_t((try String(contentsOfFile: marker, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines))!
        let deadline = Date().addingTimeInterval(5)
        while kill(child, 0) == 0 && Date() < deadline { usleep(10_000) }
        #expect(kill(child, 0) != 0, "the background child was stopped with the group")
        // A daemon started by the command, holding the output pipe, does not make us wait for it.
        let daemonized = try BoundedCommand.shell("sleep 20 & echo started", timeout: 10)
        #expect(daemonized.succeeded && daemonized.output == "started\n" && daemonized.seconds < 10)
        // ...and it may write to the output it inherited long after: no SIGPIPE kills it.
        let alive = folder.file("alive")
        let writer = try BoundedCommand.shell("(sleep 1; echo hello; echo alive > '\(alive)') &", timeout: 10)
        #expect(writer.succeeded)
        let until = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: alive) && Date() < until { usleep(20_000) }
        #expect(FileManager.default.fileExists(atPath: alive))
        #expect(throws: BoundedCommand.LaunchFailure.self) { try BoundedCommand.run(executable: "/no/such/program", arguments: [], timeout: 1) }
    }

    @Test func theCommandRunnerSeesEveryQueuedCommandThroughWhenDrained() throws {
        let folder = TemporaryFolder("runner")
        let runner = CommandRunner(logger: Logger(label: "test"), workers: 2)
        for n in 0..<6 {
            #expect(runner.run("/bin/sh", ["-c", "sleep 0.2; echo \(n) > '\(folder.file("done-\(n)"))'"], timeout: 10, what: "test \(n)"))
        }
        // One that outlives its timeout is stopped and does not hold the drain up.
        runner.run("/bin/sh", ["-c", "sleep 30"], timeout: 0.3, what: "slow")
        #expect(runner.drain())
        for n in 0..<6 { #expect(FileManager.default.fileExists(atPath: folder.file("done-\(n)"))) }
    }
}
