import Foundation
import Testing
import TestSupport
@testable import TailWatchDaemon

/// Races at the daemon's edges found by reading the code; each test failed before its fix.
@Suite(.serialized) struct DaemonRaceTests {
    /// `tailwatchd --start && kill -HUP …` (what `--enable` does): the signal arrives while the
    /// daemon is still setting up; it must neither end the daemon nor be dropped.
    @Test func aHangupRightAfterStartReturnsIsNeitherFatalNorLost() throws {
        let f = try DaemonFixture()
        for round in 1...3 {
            let start = try f.run(["--start", "--config", f.configPath])
            #expect(start.code == 0, "\(start.stderr)")
            let pidText = try String(contentsOfFile: f.folder.file("tailwatchd.pid"), encoding: .utf8)
            let pid = try #require(Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(kill(pid, SIGHUP) == 0)
            let reloaded = f.waitUntil(seconds: 10) { f.daemonLog.components(separatedBy: "configuration reloaded").count - 1 == round }
            #expect(reloaded, "round \(round): the SIGHUP sent as --start returned was not acted on")
            #expect(kill(pid, 0) == 0, "round \(round): the daemon died of the SIGHUP")
            let stop = try f.run(["--stop", "--config", f.configPath])
            #expect(stop.code == 0)
        }
    }

    /// A process waiting for the pid lock while the daemon stops gets the lock of the file the
    /// daemon unlinked; a third one then creates a new file at the path. Only one may win.
    @Test func aWaiterThatLockedAnUnlinkedPidFileDoesNotMakeTwoDaemons() throws {
        let folder = TemporaryFolder("pidfile")
        let path = folder.file("tailwatchd.pid")
        let first = PidFile(path: path)
        #expect(try first.acquire() == .none)
        first.publish()

        nonisolated(unsafe) let waiter = PidFile(path: path)
        let waiterResult = ResultBox()
        let waiting = Thread { waiterResult.set(try? waiter.acquire()) }
        waiting.start()
        usleep(100_000)  // the waiter has opened the file and retries its lock every 25 ms
        first.release()
        #expect(eventually { waiterResult.value != nil })
        let third = PidFile(path: path)
        let thirdResult = try third.acquire()
        let winners = [waiterResult.value, thirdResult].filter { $0 == PidFile.Holder.none }.count
        #expect(winners == 1, "waiter: \(String(describing: waiterResult.value)), third: \(thirdResult)")
        waiter.release()
        third.release()
    }
}

private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: PidFile.Holder?
    func set(_ value: PidFile.Holder?) { lock.withLock { stored = value } }
    var value: PidFile.Holder? { lock.withLock { stored } }
}
