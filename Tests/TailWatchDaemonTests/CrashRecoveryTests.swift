import Foundation
import Testing
import TestSupport

/// kill -9 of the real daemon at random moments while it ingests a backlog that keeps growing:
/// after the last restart every message is counted exactly once.
@Suite(.serialized) struct CrashRecoveryTests {
    @Test func killMinusNineBetweenAndDuringBatchesLosesAndDoublesNothing() throws {
        let f = try DaemonFixture(extraTopLevel: "batch_events = 250")
        let total = 48_000
        try LogWriter.append(f.mainlog, MainlogGenerator.lines(0..<40_000))
        var generator = SystemRandomNumberGenerator()
        var written = 40_000
        var interrupted = 0
        for round in 0..<8 {
            let daemon = try f.startForeground()
            usleep(UInt32.random(in: 80_000...400_000, using: &generator))
            if round % 2 == 0, written < total {
                // The log grows while the daemon runs, in pieces that end mid-line.
                let chunk = Array(MainlogGenerator.lines(written..<(written + 1_500)).utf8)
                try LogWriter.append(f.mainlog, Array(chunk[..<(chunk.count / 2)]))
                try LogWriter.append(f.mainlog, Array(chunk[(chunk.count / 2)...]))
                written += 1_500
            }
            kill(daemon.processIdentifier, SIGKILL)
            daemon.waitUntilExit()
            if let done: Int = try? f.query("SELECT COUNT(*) FROM sends"), done < written { interrupted += 1 }
            #expect(daemon.terminationReason == .uncaughtSignal)
        }
        // At least one kill landed while a backlog was still being read.
        #expect(interrupted > 0)
        try LogWriter.append(f.mainlog, MainlogGenerator.lines(written..<total))
        let result = try f.run(["--once", "--config", f.configPath])
        #expect(result.code == 0, "\(result.stderr)")
        let sends: Int? = try f.query("SELECT COUNT(*) FROM sends")
        let distinct: Int? = try f.query("SELECT COUNT(DISTINCT msgid) FROM sends")
        let deliveries: Int? = try f.query("SELECT COUNT(*) FROM smtp")
        let rolledSent: Int? = try f.query("SELECT SUM(sent) FROM mail_hourly")
        let rolledDelivered: Int? = try f.query("SELECT SUM(delivered) FROM mail_hourly")
        let unknown: Int? = try f.query("SELECT COUNT(*) FROM smtp WHERE user = 'UNKNOWN'")
        #expect(sends == total)
        #expect(distinct == total)
        #expect(deliveries == total)
        #expect(rolledSent == total)
        #expect(rolledDelivered == total)
        #expect(unknown == 0)
    }

    @Test func sigtermCommitsEverythingReadAndExitsZero() throws {
        let f = try DaemonFixture()
        try LogWriter.append(f.mainlog, MainlogGenerator.lines(0..<2_000))
        let daemon = try f.startForeground()
        #expect(f.waitUntil(seconds: 20) { ((try? f.query("SELECT COUNT(*) FROM sends")) as Int??) == 2_000 })
        // Lines appended while it runs are picked up within a second (inotify), then SIGTERM.
        try LogWriter.append(f.mainlog, MainlogGenerator.lines(2_000..<2_100))
        #expect(f.waitUntil(seconds: 5) { ((try? f.query("SELECT COUNT(*) FROM sends")) as Int??) == 2_100 })
        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus == 0)
        #expect(f.daemonLog.contains("all read lines are committed"))
        let stats: Int? = try f.query("SELECT lines_read FROM driver_stats WHERE driver = 'eximstats'")
        #expect(stats == 6_300)
    }

    @Test func writersThatReopenTheirLogLateAfterARenameAreStillRead() throws {
        let f = try DaemonFixture()
        try LogWriter.append(f.mainlog, MainlogGenerator.lines(0..<10))
        let daemon = try f.startForeground()
        defer {
            kill(daemon.processIdentifier, SIGTERM)
            daemon.waitUntilExit()
        }
        #expect(f.waitUntil(seconds: 10) { ((try? f.query("SELECT COUNT(*) FROM sends")) as Int??) == 10 })
        LogWriter.rename(f.mainlog, f.mainlog + ".1")
        try LogWriter.append(f.mainlog, MainlogGenerator.lines(10..<20))
        usleep(300_000)
        // A writer still holding the old file writes once more before it reopens.
        try LogWriter.append(f.mainlog + ".1", MainlogGenerator.lines(20..<25))
        #expect(f.waitUntil(seconds: 10) { ((try? f.query("SELECT COUNT(*) FROM sends")) as Int??) == 25 })
        let distinct: Int? = try f.query("SELECT COUNT(DISTINCT msgid) FROM sends")
        #expect(distinct == 25)
    }
}
