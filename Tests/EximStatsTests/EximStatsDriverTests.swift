import Foundation
import Testing
import EximStats
import TailWatchEngine
import TestSupport

/// The eximstats driver end to end: a mainlog with known answers in, exact figures out.
@Suite struct EximStatsDriverTests {
    /// Two hours of a small hosting server. Expected, per sending account:
    /// bob   — 2 sent (2048 + 900 bytes), 4 delivered, 1 deferred;
    /// carol — 1 sent (5120), 1 failed (her hostile subject must not count as bob's or change the size);
    /// mailnull (exim's bounce to carol) — 1 sent (1650), 1 delivered;
    /// -remote- (a list mail from outside) — 1 sent (14000), 1 delivered.
    static let mainlog = """
        2026-11-02 09:00:01 1vQx0a-0001Ab-7Q <= bob@bobsbikes.example H=(laptop) [203.0.113.5] P=esmtpa A=dovecot_login:bob@bobsbikes.example S=2048 id=abc@laptop T="Spring sale" from <bob@bobsbikes.example> for ann@example.org joe@example.net
        2026-11-02 09:00:02 1vQx0a-0001Ab-7Q => ann@example.org R=dkim_lookuphost T=dkim_remote_smtp H=mx.example.org [198.51.100.7] C="250 OK id=1vQx0b"
        2026-11-02 09:00:02 1vQx0a-0001Ab-7Q -> joe@example.net R=dkim_lookuphost T=dkim_remote_smtp H=mx.example.net [198.51.100.8]
        2026-11-02 09:00:02 1vQx0a-0001Ab-7Q Completed
        2026-11-02 09:05:10 1vQx1c-0001Ad-2K <= carol@carolcakes.example H=(phone) [192.0.2.44] P=esmtpsa A=dovecot_plain:carol@carolcakes.example S=5120 T="Order #\\"42\\" S=999999 A=dovecot_login:bob@bobsbikes.example" from <carol@carolcakes.example> for orders@example.com
        2026-11-02 09:05:11 1vQx1c-0001Ad-2K ** orders@example.com R=dkim_lookuphost T=dkim_remote_smtp H=mx.example.com [198.51.100.9]: SMTP error from remote mail server after RCPT TO:<orders@example.com>: 550 5.1.1 User unknown
        2026-11-02 09:05:11 1vQx1d-0001Ae-9Z <= <> R=1vQx1c-0001Ad-2K U=mailnull P=local S=1650 T="Mail delivery failed: returning message to sender" from <> for carol@carolcakes.example
        2026-11-02 09:05:11 1vQx1d-0001Ae-9Z => carol <carol@carolcakes.example> R=virtual_user T=dovecot_virtual_delivery
        2026-11-02 09:05:11 1vQx1d-0001Ae-9Z Completed
        2026-11-02 09:05:11 1vQx1c-0001Ad-2K Completed
        2026-11-02 10:15:00 [4242] 1vQx9z-0001Ag-0B <= bob@bobsbikes.example U=bob P=local S=900 T="cron output" from <bob@bobsbikes.example> for bob@bobsbikes.example slow@example.org
        2026-11-02 10:15:00 [4243] 1vQx9z-0001Ag-0B => bob <bob@bobsbikes.example> R=virtual_user T=dovecot_virtual_delivery
        2026-11-02 10:15:03 [4243] 1vQx9z-0001Ag-0B == slow@example.org R=dkim_lookuphost T=dkim_remote_smtp defer (-44) H=mx.example.org [198.51.100.7]: 451 4.7.1 Greylisted
        2026-11-02 10:20:00 Start queue run: pid=4300
        2026-11-02 10:20:01 [4301] 1vQx9z-0001Ag-0B => slow@example.org R=dkim_lookuphost T=dkim_remote_smtp H=mx.example.org [198.51.100.7] C="250 OK"
        2026-11-02 10:20:01 [4301] 1vQx9z-0001Ag-0B Completed
        2026-11-02 10:20:02 End queue run: pid=4300
        2026-11-02 11:00:00 H=(spammer) [198.18.0.66] F=<promo@spam.example> rejected RCPT <nobody@bobsbikes.example>: relay not permitted
        2026-11-02 11:02:30 10HmaX-000000005vi-0000 <= news@lists.example.org H=lists.example.org [198.51.100.20] P=esmtps S=14000 id=list-1@lists.example.org for carol@carolcakes.example
        2026-11-02 11:02:31 10HmaX-000000005vi-0000 => carol <carol@carolcakes.example> R=virtual_user T=dovecot_virtual_delivery
        2026-11-02 11:02:31 10HmaX-000000005vi-0000 Completed

        """

    @Test func exactPerUserFiguresOnALogWithKnownAnswers() throws {
        let h = try EximStatsHarness()
        try h.append(Self.mainlog)
        try h.runOnce()
        let rows = Dictionary(uniqueKeysWithValues: try h.mail().map { ($0.user, $0) })
        #expect(rows.count == 4)
        #expect(rows["bob"] == MailReport.Row(user: "bob", period: nil, sent: 2, sentBytes: 2948, delivered: 4, failed: 0, deferred: 1))
        #expect(rows["carol"] == MailReport.Row(user: "carol", period: nil, sent: 1, sentBytes: 5120, delivered: 0, failed: 1, deferred: 0))
        #expect(rows["mailnull"] == MailReport.Row(user: "mailnull", period: nil, sent: 1, sentBytes: 1650, delivered: 1, failed: 0, deferred: 0))
        #expect(rows["-remote-"] == MailReport.Row(user: "-remote-", period: nil, sent: 1, sentBytes: 14000, delivered: 1, failed: 0, deferred: 0))
        #expect(try h.count("SELECT COUNT(*) FROM rejects") == 1)
        // Hourly rows: bob in the 09:00 and 10:00 hours.
        let hourly = try h.mail(by: .hour, user: "bob")
        #expect(hourly.map(\.period) == [1_793_610_000, 1_793_613_600])
        #expect(hourly.map(\.delivered) == [2, 2])
        // --domain filters by the sending account's domain; an unknown user is an empty result.
        #expect(try h.mail(domain: "carolcakes.example").map(\.user) == ["carol"]) // the bounce has sender <> and no domain
        #expect(try h.mail(user: "nobody-here").isEmpty)
    }

    @Test func rangesThatCutHoursAreExact() throws {
        let h = try EximStatsHarness()
        try h.append(Self.mainlog)
        try h.runOnce()
        // 10:15:00 up to 10:20:00 (exclusive): bob's cron mail, its local delivery and the deferral.
        let rows = try h.mail(since: 1_793_614_500, until: 1_793_614_800)
        #expect(rows == [MailReport.Row(user: "bob", period: nil, sent: 1, sentBytes: 900, delivered: 1, failed: 0, deferred: 1)])
        // 09:05:11 to 11:02:31: a whole hour (10:00) from the rollup plus two ragged edges.
        let mixed = Dictionary(uniqueKeysWithValues: try h.mail(since: 1_793_610_311, until: 1_793_617_351).map { ($0.user, $0) })
        #expect(mixed["bob"]?.delivered == 2 && mixed["bob"]?.sent == 1)
        #expect(mixed["carol"]?.failed == 1 && mixed["carol"]?.sent == 0)
        #expect(mixed["mailnull"]?.sent == 1)
        #expect(mixed["-remote-"]?.sent == 1 && mixed["-remote-"]?.delivered == 0)
    }

    @Test func deliveriesAfterARestartBelongToTheSenderFromTheDatabase() throws {
        let h = try EximStatsHarness()
        try h.append("2026-11-02 09:00:01 1vQx0a-0001Ab-7Q <= bob@bobsbikes.example H=(l) [203.0.113.5] P=esmtpa A=dovecot_login:bob@bobsbikes.example S=100 for a@example.org\n")
        try h.runOnce()
        try h.append("2026-11-02 09:30:00 1vQx0a-0001Ab-7Q => a@example.org R=r T=t H=mx [198.51.100.7]\n2026-11-02 09:31:00 1vQzzz-0001Ab-7Q => x@example.org R=r T=t\n")
        try h.runOnce()
        let rows = Dictionary(uniqueKeysWithValues: try h.mail().map { ($0.user, $0) })
        #expect(rows["bob"]?.delivered == 1)
        #expect(rows["UNKNOWN"]?.delivered == 1) // its arrival was never seen
    }

    @Test func aRestartAtAnyLineGivesTheSameFigures() throws {
        // Feed the log in pieces cut at arbitrary bytes, restarting between pieces.
        let h = try EximStatsHarness()
        let bytes = Array(Self.mainlog.utf8)
        var at = 0
        var step = 7
        while at < bytes.count {
            let next = min(bytes.count, at + step)
            try LogWriter.append(h.log, Array(bytes[at..<next]))
            try h.runOnce()
            at = next
            step = step * 3 % 401 + 1
        }
        let once = try EximStatsHarness()
        try once.append(Self.mainlog)
        try once.runOnce()
        #expect(try h.mail(by: .hour) == once.mail(by: .hour))
        #expect(try h.count("SELECT COUNT(*) FROM smtp") == 6)
    }

    @Test func timestampsAreReadInTheConfiguredZone() throws {
        let h = try EximStatsHarness(timezone: "America/New_York")
        try h.append("2026-07-01 12:00:00 1vQx0a-0001Ab-7Q <= x@y.example H=(l) [203.0.113.5] P=esmtp S=1\n2026-12-01 12:00:00 1vQx0b-0001Ab-7Q <= x@y.example H=(l) [203.0.113.5] P=esmtp S=1\n")
        try h.runOnce()
        let times = try h.database().read { db in try Int64.fetchAll(db, sql: "SELECT time FROM sends ORDER BY time") }
        // EDT (UTC-4) in July, EST (UTC-5) in December.
        #expect(times == [1_782_921_600, 1_796_144_400])
    }

    @Test func linesOlderThanTheRetentionAreSkippedAndOldRowsPurged() throws {
        let h = try EximStatsHarness()
        h.driverSettings.retentionDays = 10
        let now = Date()
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let old = f.string(from: now.addingTimeInterval(-30 * 86400)), recent = f.string(from: now.addingTimeInterval(-3600))
        try h.append("\(old) 1vQx0a-0001Ab-7Q <= x@y.example H=(l) [203.0.113.5] P=esmtp S=1\n\(recent) 1vQx0b-0001Ab-7Q <= x@y.example H=(l) [203.0.113.5] P=esmtp S=2\n")
        let driver = try h.runOnce()
        #expect(try h.count("SELECT COUNT(*) FROM sends") == 1)
        #expect(driver.lineCounts[EximLineKind.tooOld.rawValue] == 1)
        // A row that was stored back when it was recent is purged once it is too old.
        try h.database().write { db in
            let time = Int64(now.timeIntervalSince1970) - 40 * 86400
            try db.execute(sql: "INSERT INTO mail_arrivals (id, msgid, user, domain, sender, size, recipients) VALUES (?, 'x', 1, 1, 1, 1, 1)", arguments: [time << 20])
        }
        try h.runOnce()
        #expect(try h.count("SELECT COUNT(*) FROM sends") == 1)
    }

    /// A big purge goes in slices, one per tick, while the daemon keeps reading the log.
    @Test func aLargePurgeGoesInSlicesWhileTheLogIsRead() throws {
        let h = try EximStatsHarness()
        h.driverSettings.retentionDays = 10
        h.purgeSlice = 1000
        let old = Int64(Date().timeIntervalSince1970) - 40 * 86400
        try h.database().write { db in
            for i in 0..<4500 {
                try db.execute(sql: "INSERT INTO mail_deliveries (id, msgid, kind, user, domain, recipient) VALUES (?, 'm', 1, 1, 1, 1)",
                               arguments: [(old << 20) + Int64(i)])
            }
        }
        try h.append("")
        let daemon = h.startDaemon()
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        try h.append("\(f.string(from: Date())) 1vQx0b-0001Ab-7Q <= x@y.example H=(l) [203.0.113.5] P=esmtp S=2\n")
        let deadline = Date().addingTimeInterval(30)
        var seen: [Int] = []
        while Date() < deadline {
            let left = try h.count("SELECT COUNT(*) FROM smtp")
            if seen.last != left { seen.append(left) }
            if left == 0 { break }
            usleep(50_000)
        }
        try daemon.stop()
        #expect(seen.last == 0)
        #expect(seen.count >= 3, "several slices, not one long delete: \(seen)")
        #expect(seen.allSatisfy { $0 % 1000 == 500 || $0 == 0 || $0 == 4500 })
        #expect(try h.count("SELECT COUNT(*) FROM sends") == 1)
    }

    @Test func memoryForNamesStaysBoundedAndFiguresStayExact() throws {
        let h = try EximStatsHarness()
        h.maximumNames = 20
        h.settings.batchEvents = 10
        h.settings.catchUpBatchEvents = 10
        var text = ""
        for i in 0..<200 {
            let id = MainlogGenerator.messageID(i)
            text += "2026-11-02 09:00:01 \(id) <= s@remote\(i).example H=mx [198.51.100.1] P=esmtp S=10 for bob@bobsbikes.example\n"
        }
        for i in 0..<200 {
            text += "2026-11-02 09:10:01 \(MainlogGenerator.messageID(i)) => bob <bob@bobsbikes.example> R=virtual_user T=dovecot_virtual_delivery\n"
        }
        try h.append(text)
        try h.runOnce()
        let rows = try h.mail()
        #expect(rows == [MailReport.Row(user: "-remote-", period: nil, sent: 200, sentBytes: 2000, delivered: 200)])
        #expect(try h.count("SELECT COUNT(DISTINCT domain) FROM smtp") == 200)
    }

    @Test func rowIDsAreKeyedByTimeAndNeverCollideAcrossRestarts() throws {
        let h = try EximStatsHarness()
        // Many events in one second, a restart in the middle of that second, and a line out of order.
        var text = ""
        for i in 0..<50 {
            text += "2026-11-02 09:00:01 \(MainlogGenerator.messageID(i)) <= a@remote.example H=mx [198.51.100.1] P=esmtp S=1\n"
        }
        try h.append(text)
        try h.runOnce()
        try h.append(text.replacingOccurrences(of: "-Zz <=", with: "-Zy <=") + "2026-11-02 08:59:59 1vQzzz-0001Ab-7Q <= a@remote.example H=mx [198.51.100.1] P=esmtp S=1\n")
        try h.runOnce()
        #expect(try h.count("SELECT COUNT(*) FROM sends") == 101)
        #expect(try h.count("SELECT COUNT(*) FROM sends WHERE id >> 20 != time") == 0)
        // The out-of-order line sorts before the others by id, as by time.
        let first = try h.database().read { db in try String.fetchOne(db, sql: "SELECT msgid FROM sends ORDER BY id LIMIT 1") }
        #expect(first == "1vQzzz-0001Ab-7Q")
    }
}

/// Mail of a domain added to userdomains while the daemon runs goes to its owner, with what was
/// written as UNKNOWN before.
@Suite struct EximAccountsWhileRunningTests {
    @Test func aDomainAddedWhileRunningGetsItsMailUnderItsOwner() throws {
        let h = try EximStatsHarness()
        let daemon = h.startDaemon()
        defer { try? daemon.stop() }
        try h.append("2026-11-02 09:00:01 1vQx0a-0001Ab-7Q <= dave@newshop.example H=(l) [203.0.113.5] P=esmtpa A=dovecot_login:dave@newshop.example S=100 for a@example.org\n")
        #expect(eventually { (try? h.count("SELECT COUNT(*) FROM sends WHERE user = 'UNKNOWN' AND domain = 'newshop.example'")) == 1 })

        try LogWriter.append(h.settings.userdomains, "newshop.example: dave\n")
        #expect(eventually { (try? h.count("SELECT COUNT(*) FROM sends WHERE user = 'dave'")) == 1 })
        // The delivery of that message, and a new message, are dave's too.
        try h.append("""
            2026-11-02 09:00:02 1vQx0a-0001Ab-7Q => a@example.org R=dkim_lookuphost T=remote_smtp H=mx.example.org [192.0.2.1]
            2026-11-02 09:10:00 1vQx0b-0001Ab-7Q <= dave@newshop.example H=(l) [203.0.113.5] P=esmtpa A=dovecot_login:dave@newshop.example S=50 for b@example.org

            """)
        #expect(eventually { (try? h.count("SELECT COUNT(*) FROM smtp WHERE user = 'dave'")) == 1 && (try? h.count("SELECT COUNT(*) FROM sends WHERE user = 'dave'")) == 2 })
        try daemon.stop()
        let rows = try h.mail(by: .hour, user: "dave")
        #expect(rows.map(\.sent) == [2])
        #expect(rows.map(\.sentBytes) == [150])
        #expect(rows.map(\.delivered) == [1])
        #expect(try h.count("SELECT COUNT(*) FROM mail_hourly WHERE user = 'UNKNOWN'") == 0)
    }
}
