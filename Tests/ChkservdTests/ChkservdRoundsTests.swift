import Foundation
import GRDB
import Logging
import Testing
@testable import Chkservd
import TailWatchEngine
import TestSupport

/// chkservd against real services: a perl SMTP-like daemon on a loopback port, its real process,
/// restart commands that really start it again, a service that hangs, a broken file.
@Suite(.serialized) struct ChkservdRoundsTests {
    final class Setup {
        let h: DriverHarness
        var settings = ChkservdSettings()
        let configDir: String
        let notified: String

        init() throws {
            h = try DriverHarness(label: "chkservd", modules: [ChkservdRounds.descriptor.migrations], userdomains: "")
            configDir = h.folder.file("chkserv.d")
            try FileManager.default.createDirectory(atPath: configDir, withIntermediateDirectories: true)
            settings.configDirectory = configDir
            settings.log = h.folder.file("chkservd.log")
            settings.runDirectory = h.folder.file("run")
            notified = h.folder.file("notified")
            settings.notifyCommand = try h.folder.write("notify.sh", "#!/bin/sh\necho \"$1 $2 $3\" >> '\(notified)'\n")
            chmod(settings.notifyCommand!, 0o755)
            settings.limits.connectTimeout = 2
            settings.limits.readTimeout = 2
            settings.limits.restartGrace = 1
        }

        func services(_ monitored: [String: String], off: [String] = []) throws {
            var conf = ""
            for (name, line) in monitored.sorted(by: { $0.key < $1.key }) {
                conf += "\(name):1\n"
                try h.folder.write("chkserv.d/\(name)", line)
            }
            for name in off { conf += "\(name):0\n" }
            try h.folder.write("chkserv.d/chkservd.conf", conf)
        }

        var configured: ConfiguredDriver {
            let s = settings
            return ConfiguredDriver(enabled: true, retention: ChkservdRounds.retention(s)) { context in ChkservdRounds(settings: s, context: context) }
        }

        func round() async throws { try await h.runSupervisedOnce("chkservd", configured) }

        /// Read through a reader, as the report does: polling while the daemon runs never needs
        /// the write lock (opening a writer waits for it, and on a busy machine that timed out).
        /// No rows before the daemon has created the database.
        func rows(_ service: String) throws -> [Row] {
            guard let reader = try? Store.openReader(path: h.settings.database, modules: h.modules) else { return [] }
            return try reader.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM service_checks WHERE service = ? ORDER BY rowid", arguments: [service])
            }
        }

        func runFile(_ service: String) -> String? { try? String(contentsOfFile: settings.runDirectory + "/" + service, encoding: .utf8) }
        var logText: String { (try? String(contentsOfFile: settings.log, encoding: .utf8)) ?? "" }
        var notifications: [String] { ((try? String(contentsOfFile: notified, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
    }

    @Test func aDeadServiceIsDetectedAtTheThresholdRestartedAndBackUp() async throws {
        let t = try Setup()
        let tiny = TinyService(folder: t.h.folder, name: "tiny")
        try tiny.start()
        defer { tiny.stop() }
        try t.services(["tiny": "service[tiny]=\(tiny.address),QUIT,220,\(tiny.startCommand),\(tiny.title)\nfailure_threshold=2\n"])

        try await t.round()
        var rows = try t.rows("tiny")
        #expect(rows.count == 1)
        #expect(rows.last?["status"] as String? == "up" && rows.last?["socket"] as Int? == 1 && rows.last?["process"] as Int? == 1)
        #expect(t.runFile("tiny") == "+")
        #expect(t.logText.contains("Service check ....tiny [[check command:+][socket connect:+]]...Done"))

        // Killed: the socket check fails once (below the threshold of 2), and the process check
        // fails; a failed process check restarts at once.
        tiny.stop()
        #expect(!tiny.isRunning)
        try await t.round()
        rows = try t.rows("tiny")
        #expect(rows.count == 2)
        #expect(rows.last?["socket"] as Int? == 0 && rows.last?["process"] as Int? == 0 && rows.last?["passed"] as Int? == 0)
        #expect(rows.last?["action"] as String? == "restart")
        #expect(rows.last?["status"] as String? == "up", "re-checked after the grace period: \(rows.last?["detail"] as String? ?? "")")
        #expect(tiny.isRunning, "the restart command really started it")
        #expect(t.runFile("tiny") == "+")
        let log = t.logText
        #expect(log.contains("[check command:-][socket connect:-][socket failure threshold:1/2][notify:failed service:tiny]]...Failed"))
        #expect(log.contains("Restarting tiny....Done"))
        #expect(log.contains("[check command:+][socket connect:+][notify:recovered service:tiny]]...Done"))
        #expect(t.notifications.count == 2)
        #expect(t.notifications.first?.hasPrefix("tiny failed ") == true)
        #expect(t.notifications.last?.hasPrefix("tiny recovered ") == true)

        let report = try await t.h.database().read { db in try ServicesReport.rows(db, service: "tiny", since: nil, until: nil) }
        #expect(report.map(\.checks) == [2] && report.map(\.failures) == [1] && report.map(\.restarts) == [1] && report.map(\.status) == ["up"])
        #expect(report.first?.uptime == 50)
    }

    @Test func socketFailuresRestartOnlyAtTheThresholdAcrossRestartsOfTheDaemon() async throws {
        let t = try Setup()
        let port = FreePort.next() // nothing listens
        let marker = t.h.folder.file("restarted")
        try t.services(["ghost": "service[ghost]=\(port),QUIT,220,touch '\(marker)'\nfailure_threshold=3\nrestart_grace_seconds=0\n"])
        try await t.round()
        try await t.round()
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(t.logText.contains("[socket connect:-][socket failure threshold:2/3]]...Failed"))
        #expect(t.runFile("ghost") == "-")
        #expect(t.notifications.isEmpty, "no notification below the threshold")
        try await t.round() // a new engine each time: the count lives in the database
        #expect(FileManager.default.fileExists(atPath: marker))
        let rows = try t.rows("ghost")
        #expect(rows.map { $0["action"] as String } == ["none", "none", "restart"])
        #expect(rows.map { $0["status"] as String } == ["down", "down", "down"])
        #expect((rows.last?["detail"] as String?)?.contains("connect: Connection refused") == true)
        #expect(t.notifications.count == 1 && t.notifications[0].hasPrefix("ghost failed connect: Connection refused"))
    }

    @Test func aHangingServiceCostsItsTimeoutAndDelaysNoOther() async throws {
        let t = try Setup()
        let hung = TinyService(folder: t.h.folder, name: "hung", hang: true)
        let fine = TinyService(folder: t.h.folder, name: "fine", unix: true)
        try hung.start()
        try fine.start()
        defer { hung.stop(); fine.stop() }
        // "a-hung" is first in the list; checked one after the other, it would also finish first.
        try t.services([
            "a-hung": "service[a-hung]=\(hung.address),QUIT,220,,,,\nread_timeout_seconds=2\nfailure_threshold=9\n",
            "b-fine": "service[b-fine]=\(fine.address),,,,,,220 tiny|EHLO me|250|QUIT|221\n",
            "broken": "service[broken]=smtp,QUIT,220\n",
        ], off: ["cpanellogd"])
        try await t.round()
        let hungRow = try #require(try t.rows("a-hung").last)
        #expect(hungRow["status"] as String? == "down")
        #expect((hungRow["detail"] as String?)?.contains("no reply within the read timeout") == true)
        let fineRow = try #require(try t.rows("b-fine").last)
        #expect(fineRow["status"] as String? == "up", "\(fineRow["detail"] as String? ?? "")")
        let log = t.logText
        let fineLine = try #require(log.range(of: "Service check ....b-fine [[socket connect:+]]...Done"))
        let hungLine = try #require(log.range(of: "Service check ....a-hung [[socket connect:-]"))
        #expect(fineLine.lowerBound < hungLine.lowerBound, "the fine service was not held up by the hung one")
        #expect(log.contains("chkserv.d/broken: PORT: 'smtp' is not a TCP port"))
        #expect(try t.rows("broken").isEmpty)
        #expect(try t.rows("cpanellogd").isEmpty)
    }

    /// `--once` sees its round through, but never inside a transaction: while a slow check takes
    /// its time, another writer (the engine, another tool, a report's purge) can still write.
    @Test func underOnceASlowRoundDoesNotHoldTheDatabasesWriteLock() async throws {
        let t = try Setup()
        let hung = TinyService(folder: t.h.folder, name: "slow", hang: true)
        try hung.start()
        defer { hung.stop() }
        try t.services(["slow": "service[slow]=\(hung.address),QUIT,220\nread_timeout_seconds=4\nfailure_threshold=9\n"])
        let running = t.h.startSupervised("chkservd", t.configured, once: true)
        #expect(await awaitUntil { t.logText.contains("Service Check Started") })
        try await Task.sleep(for: .milliseconds(800))  // the catch-up (no files) is over; the round is still checking
        let other = try DatabaseQueue(path: t.h.settings.database)
        let tookTheLock = try await other.writeWithoutTransaction { db -> Bool in
            do {
                try db.execute(sql: "BEGIN IMMEDIATE")
                try db.execute(sql: "COMMIT")
                return true
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
                return false
            }
        }
        #expect(tookTheLock, "the round was waited for inside a transaction")
        #expect(!t.logText.contains("Service check ....slow"), "the round was still running when the lock was tried")
        try await running.finished()
        #expect(try t.rows("slow").last?["status"] as String? == "down")
    }

    /// `--once` sees its round through, but a stop (SIGTERM) interrupts it: the slow check is
    /// left to record itself, and the run ends.
    @Test func aStopInterruptsTheOnceRound() async throws {
        let t = try Setup()
        let hung = TinyService(folder: t.h.folder, name: "slow", hang: true)
        try hung.start()
        defer { hung.stop() }
        try t.services(["slow": "service[slow]=\(hung.address),QUIT,220\nread_timeout_seconds=3\nfailure_threshold=9\n"])
        let running = t.h.startSupervised("chkservd", t.configured, once: true)
        #expect(await awaitUntil { t.logText.contains("Service Check Started") })
        try await Task.sleep(for: .milliseconds(300))
        try await running.stop()
        #expect(t.logText.contains("Service Check Finished") == false)
        #expect(try t.rows("slow").first?["action"] as String? == "none", "the check recorded itself before the exit")
    }

    @Test func aRoundThatOutlivesTwoIntervalsIsAbandonedAsHung() async throws {
        let t = try Setup()
        t.settings.intervalSeconds = 1
        let hung = TinyService(folder: t.h.folder, name: "stuck", hang: true)
        try hung.start()
        defer { hung.stop() }
        try t.services(["stuck": "service[stuck]=\(hung.address),QUIT,220\nread_timeout_seconds=6\n"])
        try await t.round()
        let rows = try t.rows("stuck")
        let row = try #require(rows.first)
        #expect(row["action"] as String? == "hung" && row["status"] as String? == "unknown" && row["passed"] as Int? == 0)
        #expect(t.logText.contains("Service check ....stuck [[hung:"))
        // At exit the process waits (up to 10 s) for the abandoned check, which records itself.
        #expect(rows.count == 2 && (rows.last?["detail"] as String?)?.hasPrefix("(finished after its round was abandoned) no reply") == true)
    }

    /// An abandoned check runs on (every wait has a timeout); meanwhile later rounds leave that
    /// service alone, and its late result is recorded when it comes.
    @Test func anAbandonedCheckIsNotStartedTwiceAndItsLateResultIsKept() async throws {
        let t = try Setup()
        t.settings.intervalSeconds = 1
        let hung = TinyService(folder: t.h.folder, name: "stuck", hang: true)
        try hung.start()
        defer { hung.stop() }
        try t.services(["stuck": "service[stuck]=\(hung.address),QUIT,220\nread_timeout_seconds=4\nfailure_threshold=9\n"])
        let daemon = t.h.startSupervised("chkservd", t.configured)
        let deadline = Date().addingTimeInterval(20)
        while (try t.rows("stuck").count) < 2 && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        try await daemon.stop()
        let rows = try t.rows("stuck")
        #expect(rows.map { $0["action"] as String }.prefix(2) == ["hung", "none"])
        #expect((rows.dropFirst().first?["detail"] as String?)?.hasPrefix("(finished after its round was abandoned) no reply within the read timeout") == true)
        #expect(t.logText.contains("stuck: still being checked since an earlier round; skipped this round"))
        #expect(t.logText.contains("its timeouts add up to 6 s, more than two intervals"))
    }

    // MARK: Restart loops, flapping, dependencies (issue 18)

    /// A service that runs but only listens 6 s after it starts: restarted once when found dead,
    /// then left to start (its failed checks within `startup_seconds` are `starting`), never
    /// restarted in a loop, and announced once down and once up.
    @Test func aSlowStarterIsRestartedOnceNotInALoop() async throws {
        let t = try Setup()
        t.settings.intervalSeconds = 1
        let slow = TinyService(folder: t.h.folder, name: "slow", slowStart: 6)
        defer { slow.stop() }
        // Not running at first: the process check fails and it is restarted at once.
        try t.services(["slow": "service[slow]=\(slow.address),QUIT,220,\(slow.startCommand),\(slow.title)\nfailure_threshold=1\nrestart_grace_seconds=1\nstartup_seconds=30\nread_timeout_seconds=1\nconnect_timeout_seconds=1\n"])
        let daemon = t.h.startSupervised("chkservd", t.configured)
        #expect(try await awaitUntil(timeout: 30) { try t.rows("slow").last?["status"] as String? == "up" })
        try await daemon.stop()
        let rows = try t.rows("slow")
        #expect(rows.filter { $0["action"] as String == "restart" }.count == 1, "\(rows.map { $0["action"] as String })")
        #expect(rows.contains { $0["action"] as String == "starting" }, "checks during the start-up were not judged")
        #expect(t.notifications.count == 2 && t.notifications.first?.hasPrefix("slow failed ") == true && t.notifications.last?.hasPrefix("slow recovered ") == true)
        #expect(t.logText.contains("[starting:"))
    }

    /// Killed before every round: restarted `flap_restarts` times, then `flapping` — not
    /// restarted again, announced once, with the last checks as evidence — and a start of the
    /// daemon (as a reload) lifts the hold.
    @Test func aServiceKilledEveryRoundGoesFlappingAndIsNotRestartedAgain() async throws {
        let t = try Setup()
        t.settings.limits.restartGrace = 0
        let tiny = TinyService(folder: t.h.folder, name: "flappy")
        defer { tiny.stop() }
        try t.services(["flappy": "service[flappy]=\(tiny.address),QUIT,220,\(tiny.startCommand),\(tiny.title)\nstartup_seconds=0\nflap_restarts=2\nflap_rounds=5\n"])
        for _ in 0..<5 {
            tiny.stop()
            try await t.round()
            // The restart command backgrounds perl: wait for its pid file (a restart), or not (held).
            _ = await awaitUntil(timeout: 3) { tiny.isRunning }
        }
        let rows = try t.rows("flappy")
        #expect(rows.map { $0["action"] as String } == ["restart", "restart", "held", "held", "held"])
        #expect(rows.map { $0["status"] as String }.suffix(3) == ["flapping", "flapping", "flapping"])
        #expect(!tiny.isRunning, "not restarted once flapping")
        #expect(t.runFile("flappy") == "-")
        let flapping = t.notifications.filter { $0.hasPrefix("flappy flapping ") }
        #expect(flapping.count == 1)
        #expect(flapping.first?.contains("restarted 2 times within its last 5 checks") == true)
        #expect(flapping.first?.contains("before: ") == true)
        let report = try await t.h.database().read { db in try ServicesReport.rows(db, service: "flappy", since: nil, until: nil) }
        #expect(report.first?.status == "flapping" && report.first?.restarts == 2)

        // The daemon starting (as at a reload) lifts the hold: the next round restarts it.
        let daemon = t.h.startSupervised("chkservd", t.configured)
        #expect(try await awaitUntil(timeout: 20) { try t.rows("flappy").count >= 6 })
        try await daemon.stop()
        #expect(try t.rows("flappy")[5]["action"] as String? == "restart")
    }

    /// The hold ends by itself after `flap_quiet_seconds`: the next failure is restarted again,
    /// the restarts before the hold no longer counted.
    @Test func aFlapHoldEndsAfterItsQuietPeriod() async throws {
        let t = try Setup()
        t.settings.limits.restartGrace = 0
        let tiny = TinyService(folder: t.h.folder, name: "quiet")
        defer { tiny.stop() }
        try t.services(["quiet": "service[quiet]=\(tiny.address),QUIT,220,\(tiny.startCommand),\(tiny.title)\nstartup_seconds=0\nflap_restarts=1\nflap_quiet_seconds=2\n"])
        try await t.round()  // dead: restarted
        #expect(await awaitUntil(timeout: 5) { tiny.isRunning })
        tiny.stop()
        try await t.round()  // dead again after one restart: flapping
        #expect(try t.rows("quiet").last?["status"] as String? == "flapping")
        try await Task.sleep(for: .milliseconds(2500))
        try await t.round()  // the hold is over: restarted
        #expect(try t.rows("quiet").map { $0["action"] as String } == ["restart", "held", "restart"])
        #expect(await awaitUntil(timeout: 5) { tiny.isRunning })
    }

    /// `depends`: the dependency is checked and restarted first; a dependent that is down while
    /// its dependency stays down is `blocked`, not restarted, and announced once.
    @Test func dependenciesAreRestartedFirstAndBlockTheirDependents() async throws {
        let t = try Setup()
        t.settings.limits.restartGrace = 1
        let db = TinyService(folder: t.h.folder, name: "db")
        let web = TinyService(folder: t.h.folder, name: "web")
        defer { db.stop(); web.stop() }
        // Both dead; "a-web" sorts first, but depends on "z-db".
        try t.services([
            "a-web": "service[a-web]=\(web.address),QUIT,220,\(web.startCommand),\(web.title)\ndepends=z-db\n",
            "z-db": "service[z-db]=\(db.address),QUIT,220,\(db.startCommand),\(db.title)\n",
        ])
        try await t.round()
        let log = t.logText
        let dbRestart = try #require(log.range(of: "Restarting z-db....Done"))
        let webRestart = try #require(log.range(of: "Restarting a-web....Done"))
        #expect(dbRestart.lowerBound < webRestart.lowerBound, "the dependency first")
        #expect(try t.rows("a-web").last?["status"] as String? == "up" && t.rows("z-db").last?["status"] as String? == "up")

        // The dependency's restart now fails: it stays down, and its dependent is blocked.
        try t.services([
            "a-web": "service[a-web]=\(web.address),QUIT,220,\(web.startCommand),\(web.title)\ndepends=z-db\n",
            "z-db": "service[z-db]=\(db.address),QUIT,220,/bin/false,\(db.title)\n",
        ])
        db.stop()
        web.stop()
        try await t.round()
        try await t.round()
        let webRows = try t.rows("a-web")
        #expect(webRows.suffix(2).map { $0["status"] as String } == ["blocked", "blocked"])
        #expect(webRows.suffix(2).allSatisfy { $0["action"] as String == "held" })
        #expect(!web.isRunning, "a blocked service is not restarted")
        #expect(t.notifications.filter { $0.hasPrefix("a-web blocked ") }.count == 1, "\(t.notifications)")
    }

    /// A dependency that hangs past the round's deadline: it is abandoned as hung, and its
    /// dependent, never started, is recorded as not checked (no late result will say otherwise).
    @Test func aDependentNeverStartedInTimeIsRecordedAsNotChecked() async throws {
        let t = try Setup()
        t.settings.intervalSeconds = 1
        let hung = TinyService(folder: t.h.folder, name: "stuck", hang: true)
        let web = TinyService(folder: t.h.folder, name: "web")
        try hung.start()
        try web.start()
        defer { hung.stop(); web.stop() }
        try t.services([
            "a-web": "service[a-web]=\(web.address),QUIT,220\ndepends=z-db\n",
            "z-db": "service[z-db]=\(hung.address),QUIT,220\nread_timeout_seconds=4\nfailure_threshold=9\n",
        ])
        try await t.round()
        let webRow = try #require(try t.rows("a-web").first)
        #expect(webRow["action"] as String? == "hung" && (webRow["detail"] as String?)?.hasPrefix("not checked: ") == true)
        #expect(try t.rows("a-web").count == 1, "never checked, so no late result")
        #expect(try t.rows("z-db").first?["action"] as String? == "hung")
        #expect(!t.logText.contains("not monitored"))
    }

    /// One notification per state change, over a scripted outage: up, down for three rounds
    /// (no restart command), up again: `failed` once, `recovered` once; and the history's
    /// uptime and outage are exact.
    @Test func oneNotificationPerStateChangeAndAnExactHistory() async throws {
        let t = try Setup()
        let tiny = TinyService(folder: t.h.folder, name: "plain")
        try tiny.start()
        defer { tiny.stop() }
        try t.services(["plain": "service[plain]=\(tiny.address),QUIT,220\nfailure_threshold=1\n"])
        try await t.round()
        tiny.stop()
        for _ in 0..<3 { try await t.round() }
        try tiny.start()
        try await t.round()
        try await t.round()
        #expect(t.notifications.map { $0.split(separator: " ").prefix(2).joined(separator: " ") } == ["plain failed", "plain recovered"])
        let rows = try t.rows("plain")
        #expect(rows.map { $0["passed"] as Int } == [1, 0, 0, 0, 1, 1])

        let history = try await t.h.database().read { db in
            try ServiceHistory.report(db, service: "plain", now: Int64(Date().timeIntervalSince1970) + 1)
        }
        let plain = try #require(history.first)
        #expect(plain.uptime24h == 50 && plain.uptime7d == 50 && plain.uptime30d == 50)
        #expect(plain.outages.count == 1)
        let outage = try #require(plain.outages.first)
        #expect(outage.start == rows[1]["time"] as Int64 && outage.end == rows[4]["time"] as Int64)
        #expect(outage.checks == 3 && outage.restarts == 0)
        #expect(outage.cause.contains("connect"))
    }

    /// A reload cancels the running round; its unfinished check runs on and records its own
    /// result, and the new configuration's rounds leave that service alone until it has.
    @Test func aCheckOutlivesAReloadAndIsNotStartedTwice() async throws {
        let t = try Setup()
        t.settings.intervalSeconds = 2
        let hung = TinyService(folder: t.h.folder, name: "stuck", hang: true)
        try hung.start()
        defer { hung.stop() }
        try t.services(["stuck": "service[stuck]=\(hung.address),QUIT,220\nread_timeout_seconds=3\nfailure_threshold=9\n"])
        let supervisor = Supervisor(databasePath: t.h.settings.database, modules: t.h.modules, logger: Logger(label: "test")) { Logger(label: $0) }
        let database = try t.h.database()
        let control = EngineControl()
        let settings = t.h.settings
        let drivers = [(name: "chkservd", configured: t.configured)]
        let first = Task {
            try await supervisor.run(settings: settings, database: database, drivers: drivers, options: EngineOptions(), control: control)
        }
        #expect(await awaitUntil { t.logText.contains("Service Check Started") })
        control.requestReload()
        #expect(try await first.value.exit == .reloadRequested)
        #expect(try t.rows("stuck").isEmpty, "the reload did not wait for the check")
        let second = Task {
            try await supervisor.run(settings: settings, database: database, drivers: drivers, options: EngineOptions(), control: control)
        }
        #expect(try await awaitUntil(timeout: 20) { try t.rows("stuck").count >= 2 })
        control.requestStop()
        _ = try await second.value
        supervisor.close()
        try database.close()
        let rows = try t.rows("stuck")
        #expect((rows.first?["detail"] as String?)?.hasPrefix("no reply within the read timeout") == true, "the first check recorded itself")
        #expect(rows.allSatisfy { $0["action"] as String == "none" }, "no round was abandoned")
        #expect(t.logText.contains("stuck: still being checked since an earlier round; skipped this round"))
        // Each check takes 3 s; rows of overlapping checks would start less than 3 s apart.
        let times = rows.map { $0["time"] as Int64 }
        #expect(zip(times, times.dropFirst()).allSatisfy { $1 - $0 >= 3 }, "checks of one service never overlap: \(times)")
    }

    /// In the daemon, rounds follow one another beside the engine, and the `tailwatchd`
    /// pseudo-service reports the engine's health.
    @Test func theDaemonRunsRoundsAndWatchesItself() async throws {
        let t = try Setup()
        t.settings.intervalSeconds = 1
        let tiny = TinyService(folder: t.h.folder, name: "tiny")
        try tiny.start()
        defer { tiny.stop() }
        try t.services(["tiny": "service[tiny]=\(tiny.address),QUIT,220\n"])
        let daemon = t.h.startSupervised("chkservd", t.configured)
        let deadline = Date().addingTimeInterval(20)
        while (try t.rows("tiny").count) < 3 && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        try await daemon.stop()
        let rows = try t.rows("tiny")
        #expect(rows.count >= 3)
        let times = rows.map { $0["time"] as Int64 }
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 < $1 }, "rounds never overlap: \(times)")
        let me = try t.rows("tailwatchd")
        #expect(me.count >= 3 && me.allSatisfy { $0["status"] as String == "up" })
        #expect(t.runFile("tailwatchd") == "+")
        #expect(t.logText.contains("Service check ....tailwatchd [[chkservd") == false, "it does not watch itself")
    }
}
