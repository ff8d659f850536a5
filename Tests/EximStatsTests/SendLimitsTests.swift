import Foundation
import GRDB
import Logging
import Testing
@testable import EximStats
@testable import TailWatchEngine
import TestSupport

/// cPanel's sending limits: counted per domain and clock hour, enforced with marker files exim
/// reads, exactly at the N-th delivery, across restarts and hour boundaries.
@Suite struct SendLimitsTests {
    /// 30 Nov 2026 10:30:00 UTC.
    static let now = Date(timeIntervalSince1970: 1_796_034_600)

    final class Setup {
        let h: EximStatsHarness
        let markers: String
        let notified: String
        var nextID = 0

        init(limits: String, globalMax: Int = 0) throws {
            h = try EximStatsHarness()
            h.clock = SendLimitsTests.now
            markers = h.folder.file("email_send_limits")
            notified = h.folder.file("notified")
            h.driverSettings.sendLimits = try h.folder.write("email_send_limits.conf", limits)
            h.driverSettings.maxEmailsPerHour = globalMax
            h.driverSettings.limitsDirectory = markers
            h.driverSettings.notifyCommand = try h.folder.write("notify.sh", "#!/bin/sh\necho \"$1 $2 $3 $4\" >> '\(notified)'\n")
            chmod(h.driverSettings.notifyCommand!, 0o755)
        }

        static func stamp(_ t: Date) -> String {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "UTC")
            f.dateFormat = "yyyy-MM-dd HH:mm:ss"
            return f.string(from: t)
        }

        /// One message from `user@domain` (authenticated) at `at`, delivered to `remote` remote and
        /// `local` local addresses, with `deferred` deferrals and `failed` failures.
        func message(_ domain: String, at: Date, remote: Int = 1, local: Int = 0, deferred: Int = 0, failed: Int = 0, user: String = "bob") -> String {
            nextID += 1
            let id = MainlogGenerator.messageID(nextID)
            let ts = Self.stamp(at)
            var out = "\(ts) \(id) <= \(user)@\(domain) H=(client) [203.0.113.5] P=esmtpa A=dovecot_login:\(user)@\(domain) S=1200 id=\(nextID)@client\n"
            for r in 0..<remote { out += "\(ts) \(id) \(r == 0 ? "=>" : "->") r\(r)@remote.example R=dkim_lookuphost T=dkim_remote_smtp H=mx.remote.example [198.51.100.7] C=\"250 OK\"\n" }
            for r in 0..<local { out += "\(ts) \(id) => carol\(r) <carol\(r)@carolcakes.example> R=virtual_user T=virtual_userdelivery\n" }
            for r in 0..<deferred { out += "\(ts) \(id) == d\(r)@slow.example R=dkim_lookuphost T=dkim_remote_smtp defer (-44): SMTP error from remote mail server after RCPT TO:<d\(r)@slow.example>: 451 try later\n" }
            for r in 0..<failed { out += "\(ts) \(id) ** f\(r)@gone.example R=dkim_lookuphost T=dkim_remote_smtp: SMTP error from remote mail server after RCPT TO:<f\(r)@gone.example>: 550 no such user\n" }
            return out
        }

        func marker(_ name: String) -> String? { try? String(contentsOfFile: markers + "/" + name, encoding: .utf8) }
        /// What the notification command wrote so far, once at least `count` lines are there (it
        /// runs off the engine's thread after the commit) or after 10 s.
        func notifications(atLeast count: Int) -> [String] {
            let deadline = Date().addingTimeInterval(10)
            var lines: [String] = []
            repeat {
                lines = ((try? String(contentsOfFile: notified, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
                if lines.count >= count { break }
                usleep(20_000)
            } while Date() < deadline
            return lines
        }
        var notifications: [String] { notifications(atLeast: 1) }
    }

    @Test func theLimitIsReachedExactlyAtTheNthRemoteDelivery() throws {
        let t = try Setup(limits: "bobsbikes.example: 3\n")
        let at = Self.now.addingTimeInterval(-600)
        // Two remote deliveries (and local ones, which do not count): under the limit.
        try t.h.append(t.message("bobsbikes.example", at: at, remote: 1, local: 2) + t.message("bobsbikes.example", at: at, remote: 1))
        try t.h.runOnce()
        #expect(t.marker("max_emails_bobsbikes.example") == nil)
        // The third: reached, in another run of the daemon (the count came from the database).
        try t.h.append(t.message("bobsbikes.example", at: at))
        try t.h.runOnce()
        #expect(t.marker("max_emails_bobsbikes.example") == "3/3\n")
        #expect(t.notifications == ["bobsbikes.example max_emails 3 3"])
        // More in the same hour: the marker follows, the notification does not repeat.
        try t.h.append(t.message("bobsbikes.example", at: at, remote: 2))
        try t.h.runOnce()
        #expect(t.marker("max_emails_bobsbikes.example") == "5/3\n")
        #expect(t.notifications.count == 1)
        #expect(try t.h.count("SELECT count(*) FROM send_limit_events") == 1)
        #expect(try t.h.count("SELECT sum(remote_delivered) FROM mail_hourly") == 5)
    }

    @Test func perDomainLinesTheDefaultLineAndTheGlobalDefault() throws {
        let t = try Setup(limits: "# limits\nbobsbikes.example: 0\n*: 2,,\n", globalMax: 100)
        let at = Self.now.addingTimeInterval(-60)
        try t.h.append(t.message("bobsbikes.example", at: at, remote: 5) + t.message("carolcakes.example", at: at, remote: 2, user: "carol"))
        try t.h.runOnce()
        #expect(t.marker("max_emails_bobsbikes.example") == nil, "0 is unlimited")
        #expect(t.marker("max_emails_carolcakes.example") == "2/2\n", "the * line")
        let limits = SendLimits.load(path: t.h.driverSettings.sendLimits, globalMaxPerHour: 100)
        #expect(limits.limit(for: "other.example").maxPerHour == 2)
        #expect(SendLimits.load(path: "/no/such/file", globalMaxPerHour: 100).limit(for: "x.example").maxPerHour == 100)
        var broken = SendLimits(globalMaxPerHour: 7)
        broken.read("a.example: lots\nb.example: 5,x\nc.example: 9,20,3\nno colon here\n", path: "f")
        #expect(broken.problems.count == 3 && broken.problems[0].hasPrefix("f:1:"))
        #expect(broken.limit(for: "a.example").maxPerHour == 7 && broken.limit(for: "C.example") == DomainLimit(maxPerHour: 9, maxDeferFailPercent: 20, minDeferFail: 3))
    }

    @Test func earlierHoursAndRemoteSendersDoNotCount() throws {
        let t = try Setup(limits: "*: 2\n")
        // Last hour's mail (a backlog read now) and unauthenticated mail from elsewhere.
        try t.h.append(t.message("bobsbikes.example", at: Self.now.addingTimeInterval(-3600), remote: 5))
        try t.h.append("\(Setup.stamp(Self.now.addingTimeInterval(-5))) 1zzzzz-000001-Zz <= spam@elsewhere.example H=(x) [192.0.2.9] P=esmtp S=100\n"
            + "\(Setup.stamp(Self.now.addingTimeInterval(-5))) 1zzzzz-000001-Zz => a@remote.example R=dkim_lookuphost T=dkim_remote_smtp H=mx [198.51.100.7]\n"
            + "\(Setup.stamp(Self.now.addingTimeInterval(-5))) 1zzzzz-000001-Zz -> b@remote.example R=dkim_lookuphost T=dkim_remote_smtp H=mx [198.51.100.7]\n")
        try t.h.runOnce()
        #expect((try? FileManager.default.contentsOfDirectory(atPath: t.markers))?.isEmpty ?? true)
    }

    @Test func markersGoAtTheTopOfTheHourAlsoWithTheDaemonDownAcrossIt() throws {
        let t = try Setup(limits: "*: 1\n")
        try t.h.append(t.message("bobsbikes.example", at: Self.now.addingTimeInterval(-60)))
        try t.h.runOnce()
        #expect(t.marker("max_emails_bobsbikes.example") == "1/1\n")
        // A stale marker of a domain under its limit (left by someone else, or an older run) goes too.
        try "9/1\n".write(toFile: t.markers + "/max_emails_carolcakes.example", atomically: true, encoding: .utf8)
        // The daemon starts again in the next hour: the counts start afresh, the markers go.
        t.h.clock = Self.now.addingTimeInterval(2400)
        try t.h.runOnce()
        #expect(t.marker("max_emails_bobsbikes.example") == nil)
        #expect(t.marker("max_emails_carolcakes.example") == nil)
        // A delivery in the new hour reaches the limit of the new hour, and notifies again.
        try t.h.append(t.message("bobsbikes.example", at: Self.now.addingTimeInterval(2000)))
        try t.h.runOnce()
        #expect(t.marker("max_emails_bobsbikes.example") == "1/1\n")
        #expect(t.notifications(atLeast: 2).count == 2)
    }

    /// The running daemon: a limit reached within a second of the delivery, and the marker gone
    /// when the clock passes the top of the hour.
    @Test func theRunningDaemonEnforcesAndClearsAtTheHour() throws {
        let t = try Setup(limits: "*: 2\n")
        try t.h.append("")
        let daemon = t.h.startDaemon()
        defer { #expect(throws: Never.self) { try daemon.stop() } }
        try t.h.append(t.message("bobsbikes.example", at: Self.now.addingTimeInterval(-30), remote: 2))
        #expect(eventually { t.marker("max_emails_bobsbikes.example") == "2/2\n" })
        t.h.clock = Self.now.addingTimeInterval(1800) // 11:00:00
        #expect(eventually { t.marker("max_emails_bobsbikes.example") == nil })
    }


    @Test func deferFailProtection() throws {
        let t = try Setup(limits: "bobsbikes.example: 0,50,3\n")
        let at = Self.now.addingTimeInterval(-120)
        // 2 messages, 2 failures: 100% but below the minimum of 3.
        try t.h.append(t.message("bobsbikes.example", at: at, remote: 0, failed: 1) + t.message("bobsbikes.example", at: at, remote: 0, deferred: 1))
        try t.h.runOnce()
        #expect(t.marker("max_deferfail_bobsbikes.example") == nil)
        // One more failure and one delivery: 3 of 4 attempts (75 %) — the minimum, and over 50 %.
        try t.h.append(t.message("bobsbikes.example", at: at, remote: 1, failed: 1))
        try t.h.runOnce()
        #expect(t.marker("max_deferfail_bobsbikes.example") == "3/3 (50%)\n")
        #expect(t.notifications == ["bobsbikes.example max_deferfail 3 3"])
        // Plenty of good mail brings the share under 50%: the marker goes.
        try t.h.append((0..<10).map { _ in t.message("bobsbikes.example", at: at) }.joined())
        try t.h.runOnce()
        #expect(t.marker("max_deferfail_bobsbikes.example") == nil)
    }

    /// A local script names any sender it likes: its mail counts for its own user's domain, never
    /// for the domain it claims; bounces (no domain) count for nobody.
    @Test func localMailCountsForTheSendersOwnDomainOnly() throws {
        let t = try Setup(limits: "*: 2\n")
        let ts = Setup.stamp(Self.now.addingTimeInterval(-60))
        var lines = ""
        for (i, (sender, local)) in [("spoof@carolcakes.example", "bob"), ("x@carolcakes.example", "bob"), ("<>", "mailnull"), ("<>", "mailnull"), ("<>", "mailnull")].enumerated() {
            let id = MainlogGenerator.messageID(900 + i)
            lines += "\(ts) \(id) <= \(sender) U=\(local) P=local S=500\n"
            lines += "\(ts) \(id) => r@remote.example R=dkim_lookuphost T=dkim_remote_smtp H=mx [198.51.100.7]\n"
        }
        try t.h.append(lines)
        try t.h.runOnce()
        #expect(t.marker("max_emails_carolcakes.example") == nil, "carol's domain is not blocked by bob's script")
        #expect(t.marker("max_emails_bobsbikes.example") == "2/2\n", "bob's mail counts for bob's domain")
        #expect(try t.h.count("SELECT count(*) FROM send_limit_events WHERE domain = ''") == 0)
    }

    @Test func markersOutliveNoLimitAndALoweredLimitIsAnnounced() throws {
        let t = try Setup(limits: "bobsbikes.example: 5\n")
        try t.h.append(t.message("bobsbikes.example", at: Self.now.addingTimeInterval(-60), remote: 3))
        try t.h.runOnce()
        #expect(t.marker("max_emails_bobsbikes.example") == nil)
        // The operator lowers the limit: the next start (or the file check) finds it reached.
        try "bobsbikes.example: 3\n".write(toFile: t.h.driverSettings.sendLimits!, atomically: true, encoding: .utf8)
        try t.h.runOnce()
        #expect(t.marker("max_emails_bobsbikes.example") == "3/3\n")
        #expect(t.notifications == ["bobsbikes.example max_emails 3 3"])
        // All limits lifted: the marker goes, even though no limit is active any more.
        try "# none\n".write(toFile: t.h.driverSettings.sendLimits!, atomically: true, encoding: .utf8)
        try t.h.runOnce()
        #expect(t.marker("max_emails_bobsbikes.example") == nil)
    }

    @Test func absurdNumbersAreRefusedNotOverflowed() throws {
        var limits = SendLimits(globalMaxPerHour: 0)
        limits.read("a.example: 0,9223372036854775807,1\nb.example: 10,101,1\nc.example: 1000000000,,\n", path: "f")
        #expect(limits.problems.count == 3)
        #expect(limits.domains.isEmpty)
        let huge = SendLimitEnforcer.Counts(remote: .max / 2, sent: .max / 2, deferFail: .max / 2)
        #expect(SendLimitEnforcer.breaches(huge, DomainLimit(maxPerHour: 1, maxDeferFailPercent: 50, minDeferFail: 1)).count == 2, "no overflow on huge counts")
    }

    @Test func unsafeDomainsNeverNameAFile() {
        #expect(SendLimitEnforcer.isSafeName("bobsbikes.example"))
        #expect(!SendLimitEnforcer.isSafeName("../../etc/passwd"))
        #expect(!SendLimitEnforcer.isSafeName(".hidden"))
        #expect(!SendLimitEnforcer.isSafeName("a b"))
        #expect(withByteLine("dkim_remote_smtp") { SendLimitEnforcer.isRemoteTransport($0) })
        #expect(withByteLine("remote_forwarded_smtp") { SendLimitEnforcer.isRemoteTransport($0) })
        #expect(!withByteLine("virtual_userdelivery") { SendLimitEnforcer.isRemoteTransport($0) })
        #expect(!withByteLine("dovecot_lmtp") { SendLimitEnforcer.isRemoteTransport($0) })
        #expect(!SendLimitEnforcer.isRemoteTransport(nil))
    }
}

/// Marker files wait on the disk (fsync): they are written after the transaction that decided
/// them commits, never while it holds the database's write lock.
@Suite struct SendLimitMarkersAfterCommitTests {
    @Test func aReconcileWritesItsMarkersOnlyAfterItsTransactionCommits() throws {
        let folder = TemporaryFolder("markers")
        var settings = EximStatsSettings()
        settings.sendLimits = try folder.write("email_send_limits.conf", "bobsbikes.example: 2\n")
        settings.limitsDirectory = folder.file("markers")
        let now = SendLimitsTests.now
        let hour = MailReport.floorHour(Int64(now.timeIntervalSince1970))
        let queue = try Store.openWriter(path: folder.file("db.sqlite3"), modules: [engineMigrations, EximStatsDriver.descriptor.migrations])
        try queue.write { db in
            try db.execute(sql: "INSERT INTO mail_hourly (user, domain, hour, sent, sent_bytes, delivered, failed, deferred, remote_delivered) VALUES ('bob', 'bobsbikes.example', ?, 5, 500, 5, 0, 0, 5)", arguments: [hour])
        }
        let outbox = AfterCommit(logger: Logger(label: "test"))
        let enforcer = SendLimitEnforcer(settings: settings, afterCommit: outbox, commands: CommandRunner(logger: Logger(label: "test")), logger: Logger(label: "test"), clock: { now })
        let marker = settings.limitsDirectory + "/max_emails_bobsbikes.example"
        try queue.inDatabase { db in
            try enforcer.open(db)
            try db.inTransaction(.immediate) {
                try enforcer.tick(db, now: now)
                #expect(!FileManager.default.fileExists(atPath: marker), "written inside the transaction")
                return .commit
            }
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
        outbox.committed()
        #expect(FileManager.default.fileExists(atPath: marker))

        // A reconcile whose transaction rolls back writes nothing, and is done again next tick.
        try FileManager.default.removeItem(atPath: marker)
        try "bobsbikes.example: 1\n".write(toFile: settings.sendLimits!, atomically: true, encoding: .utf8)
        let later = now.addingTimeInterval(6)
        try queue.inDatabase { db in
            try db.inTransaction(.immediate) {
                try enforcer.tick(db, now: later)
                return .rollback
            }
        }
        enforcer.rollback()
        outbox.rolledBack()
        #expect(!FileManager.default.fileExists(atPath: marker))
        try queue.inDatabase { db in
            try db.inTransaction(.immediate) {
                try enforcer.tick(db, now: later.addingTimeInterval(1))
                return .commit
            }
        }
        outbox.committed()
        #expect(FileManager.default.fileExists(atPath: marker))
    }
}
