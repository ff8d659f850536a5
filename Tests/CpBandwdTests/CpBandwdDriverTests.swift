import Foundation
import GRDB
import Logging
import Testing
import CpBandwd
import TailWatchEngine
import TestSupport

/// The cpbandwd driver end to end: domlogs and vhost logs in, exact bytes per account out.
@Suite struct CpBandwdDriverTests {
    final class Setup {
        let h: DriverHarness
        var settings = CpBandwdSettings()
        let domlogs: String

        init() throws {
            h = try DriverHarness(
                label: "cpbandwd", modules: [CpBandwdDriver.descriptor.migrations],
                userdomains: "bobsbikes.example: bob\nshop.bobsbikes.example: bob\ncarolcakes.example: carol\n")
            domlogs = h.folder.file("domlogs")
            try FileManager.default.createDirectory(atPath: domlogs, withIntermediateDirectories: true)
            settings.domlogs = domlogs
        }

        func configured() -> ConfiguredDriver {
            let s = settings
            return ConfiguredDriver(enabled: true, sources: CpBandwdDriver.sources(s)) { context, db in
                try CpBandwdDriver(settings: s, context: context, db: db)
            }
        }

        func run() throws {
            try h.runOnce("cpbandwd", configured())
        }

        /// One engine to run more than once (its driver keeps its state between runs).
        func engine() throws -> Engine {
            try Engine(
                settings: h.settings, database: h.database(), drivers: [(name: "cpbandwd", configured: configured())],
                options: EngineOptions(once: true), control: EngineControl(), logger: Logger(label: "test")
            ) { Logger(label: $0) }
        }

        func rows(by: BandwidthReport.Grouping = .total, user: String? = nil, domain: String? = nil, since: Int64? = nil, until: Int64? = nil) throws -> [BandwidthReport.Row] {
            try h.database().read { db in try BandwidthReport.rows(db, user: user, domain: domain, by: by, since: since, until: until) }
        }
    }

    static func line(_ time: String, _ bytes: String, status: Int = 200, client: String = "203.0.113.9") -> String {
        "\(client) - - [\(time) +0000] \"GET /x HTTP/1.1\" \(status) \(bytes) \"-\" \"Mozilla/5.0\"\n"
    }

    @Test func domlogsAreAttributedByFileNameAndNothingIsCountedTwice() throws {
        let t = try Setup()
        t.settings.keepFiveMinuteDays = 0
        try LogWriter.append(t.domlogs + "/bobsbikes.example", Self.line("30/Nov/2026:23:59:59", "1000") + Self.line("30/Nov/2026:23:59:59", "-"))
        try LogWriter.append(t.domlogs + "/bobsbikes.example-ssl_log", Self.line("01/Dec/2026:00:00:00", "500"))
        try LogWriter.append(t.domlogs + "/www.carolcakes.example", Self.line("01/Dec/2026:00:04:59", "70"))
        try LogWriter.append(t.domlogs + "/stranger.example", Self.line("01/Dec/2026:00:05:00", "3"))
        // Not access logs: skipped by name, never mis-parsed.
        try LogWriter.append(t.domlogs + "/bobsbikes.example-bytes_log", "bobsbikes.example 1796083200 999999 .\n")
        try LogWriter.append(t.domlogs + "/ftpxferlog", "Mon Nov 30 10:00:00 2026 1 1.2.3.4 999999 /x b _ o r bob ftp 0 * c\n")
        try LogWriter.append(t.domlogs + "/bobsbikes.example-bytes_log.offset", "12345\n")
        try t.run()
        let totals = Dictionary(uniqueKeysWithValues: try t.rows().map { ($0.domain, $0) })
        #expect(totals["bobsbikes.example"] == BandwidthReport.Row(user: "bob", domain: "bobsbikes.example", protocol: "http", period: nil, bytes: 1500, hits: 3)) // plain and ssl_log
        // Monthly totals split at the month boundary: the ssl request belongs to December.
        let monthly = try t.rows(by: .month, user: "bob")
        #expect(monthly.map(\.bytes) == [1000, 500])
        #expect(totals["www.carolcakes.example"]?.user == "carol")
        #expect(totals["stranger.example"]?.user == "UNKNOWN")
        #expect(try t.rows().reduce(0) { $0 + $1.bytes } == 1000 + 500 + 70 + 3)
        // Five-minute buckets: 00:04:59 and 00:05:00 fall in different ones.
        let dec1 = CivilTime.utcSeconds(year: 2026, month: 12, day: 1, hour: 0, minute: 0, second: 0)
        #expect(try t.rows(since: dec1, until: dec1 + 300).map(\.bytes).sorted() == [70, 500])
        // Running again changes nothing.
        try t.run()
        #expect(try t.rows().reduce(0) { $0 + $1.bytes } == 1573)
    }

    @Test func fiveMinuteRowsAreKeptForTheConfiguredDaysOnly() throws {
        let t = try Setup()
        t.settings.keepFiveMinuteDays = 35
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "dd/MMM/yyyy:HH:mm:ss"
        try LogWriter.append(t.domlogs + "/bobsbikes.example",
            Self.line(f.string(from: Date().addingTimeInterval(-40 * 86400)), "10") + Self.line(f.string(from: Date()), "20"))
        try t.run()
        try t.run() // the purge runs at the start of a run
        #expect(try t.h.count("SELECT COUNT(*) FROM bandwidth_5min") == 1)
        #expect(try t.h.count("SELECT SUM(bytes) FROM bandwidth_daily") == 30)
        // A range whose ends cut hours still finds the old whole hours in the hourly rollup.
        let nowSeconds = Int64(Date().timeIntervalSince1970)
        let untilCut = nowSeconds + 3600 - nowSeconds % 300
        #expect(try t.rows(since: nowSeconds - 50 * 86400 + 600, until: untilCut).reduce(0) { $0 + $1.bytes } == 30)
    }

    @Test func bytesLogsReplaceAccessLogsWhenAskedAndVhostLogsNameTheirDomain() throws {
        let t = try Setup()
        t.settings.useBytesLogs = true
        let vhosts = t.h.folder.file("vhost_access.log")
        t.settings.accessLogs = [vhosts]
        try LogWriter.append(t.domlogs + "/bobsbikes.example", Self.line("30/Nov/2026:10:00:00", "1000"))
        try LogWriter.append(t.domlogs + "/bobsbikes.example-bytes_log", "bobsbikes.example 1796032800 300 .\nbobsbikes.example 1796032800 4000 .\nnot a bytes line\n")
        try LogWriter.append(vhosts, "shop.bobsbikes.example:443 " + Self.line("30/Nov/2026:10:00:00", "25") + "carolcakes.example " + Self.line("30/Nov/2026:10:00:01", "7"))
        try t.run()
        let totals = Dictionary(uniqueKeysWithValues: try t.rows().map { ($0.domain, $0.bytes) })
        #expect(totals == ["bobsbikes.example": 4300, "shop.bobsbikes.example": 25, "carolcakes.example": 7])
        #expect(try t.rows(user: "bob").reduce(0) { $0 + $1.bytes } == 4325)
        #expect(try t.h.count("SELECT lines_rejected FROM driver_stats") == 1)
    }

    @Test func aNewDomlogAndARotatedOneAreEachCountedOnce() throws {
        let t = try Setup()
        let log = t.domlogs + "/bobsbikes.example"
        try LogWriter.append(log, Self.line("30/Nov/2026:10:00:00", "100"))
        try t.run()
        try LogWriter.append(log, Self.line("30/Nov/2026:10:01:00", "10"))
        LogWriter.rename(log, log + ".1")
        try LogWriter.append(log, Self.line("30/Nov/2026:10:02:00", "1"))
        try LogWriter.append(t.domlogs + "/carolcakes.example", Self.line("30/Nov/2026:10:03:00", "5"))
        try t.run()
        try t.run()
        let totals = Dictionary(uniqueKeysWithValues: try t.rows().map { ($0.domain, $0.bytes) })
        #expect(totals == ["bobsbikes.example": 111, "carolcakes.example": 5])
    }

    /// A vhost log for the two-core path: lines roughly in time order (one in 1,000 forty minutes
    /// late, so its bucket was written already), garbage, NUL bytes, `:port` and upper-case vhosts,
    /// with what it must add up to.
    struct CatchUpLog {
        var text = ""
        var lines = 30_000
        var perDomain: [String: Int64] = [:], perBucket: [Int64: Int64] = [:], perHour: [Int64: Int64] = [:]
        var hits = 0, rejected = 0, nuls = 0

        init() {
            let start: Int64 = 1_796_083_200  // 01/Dec/2026:00:00:00 UTC
            let agent = String(repeating: "Mozilla/5.0 (X11; Linux x86_64) ", count: 4)
            for i in 0..<lines {
                if i % 997 == 500 { text += "garbage \(i) that is not an access log line\n"; rejected += 1; continue }
                if i % 1499 == 700 { text += "site1.example 1.2.3.4 - - [01/Dec/2026:00:00:00 +0000] \"GET /\u{0}\" 200 999999\n"; rejected += 1; nuls += 1; continue }
                let time = start + Int64(i / 2) - (i % 1000 == 999 ? 2400 : 0)
                let site = i % 40
                let vhost = (i % 7 == 0 ? "SITE\(site).example" : "site\(site).example") + (i % 2 == 1 ? ":443" : "")
                let bytes = i % 13 == 0 ? 0 : Int64(i * 7919 % 100_000)
                text += "\(vhost) 198.51.100.\(i % 250) - - [\(CpBandwdDriverTests.clf(time))] \"GET /p/\(i) HTTP/1.1\" 200 \(bytes == 0 ? "-" : String(bytes)) \"-\" \"\(agent)\"\n"
                perDomain["site\(site).example", default: 0] += bytes
                perBucket[time - time % 300, default: 0] += bytes
                perHour[time - time % 3600, default: 0] += bytes
                hits += 1
            }
        }

        /// Every table holds exactly what the log adds up to.
        func expectStored(in t: Setup, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let totals = Dictionary(try t.rows().map { ($0.domain.lowercased(), $0.bytes) }, uniquingKeysWith: +)
            #expect(totals == perDomain, sourceLocation: sourceLocation)
            #expect(try t.rows().reduce(0) { $0 + $1.hits } == Int64(hits), sourceLocation: sourceLocation)
            let db = try t.h.database()
            func sums(_ table: String) throws -> [Int64: Int64] {
                try db.read { db in
                    Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT period, SUM(bytes) FROM \(table) GROUP BY period").map { (($0[0] as Int64), ($0[1] as Int64)) })
                }
            }
            #expect(try sums("bandwidth_5min") == perBucket, sourceLocation: sourceLocation)
            #expect(try sums("bandwidth_hourly") == perHour, sourceLocation: sourceLocation)
            let total = Int(perDomain.values.reduce(0, +))
            #expect(try t.h.count("SELECT SUM(bytes) FROM bandwidth_daily") == total, sourceLocation: sourceLocation)
            #expect(try t.h.count("SELECT SUM(bytes) FROM bandwidth_monthly") == total, sourceLocation: sourceLocation)
        }
    }

    /// A catch-up large enough for the two-core path (blocks of 1 MiB split between two passes, the
    /// batch's settled buckets written while they parse) over many small batches: every byte lands
    /// exactly once, in the right 5-minute bucket, and the rollups agree with the 5-minute rows.
    @Test func aLargeCatchUpParsedOnTwoCoresIsExactToTheBucket() throws {
        let t = try Setup()
        t.settings.domlogs = nil
        t.settings.keepFiveMinuteDays = 0
        t.h.settings.catchUpBatchEvents = 5_000
        let log = t.h.folder.file("access_log")
        t.settings.accessLogs = [log]
        let expected = CatchUpLog()
        #expect(expected.text.utf8.count > 3 << 20)  // several 1 MiB blocks
        try LogWriter.append(log, expected.text)
        try t.run()
        try expected.expectStored(in: t)
        #expect(try t.h.count("SELECT lines_read FROM driver_stats") == expected.lines)
        #expect(try t.h.count("SELECT lines_rejected FROM driver_stats") == expected.rejected)
        #expect(try t.h.count("SELECT count FROM rejected_lines WHERE reason = 'NUL byte in line'") == expected.nuls)
    }

    /// The 5-minute table refuses writes (a full disk, say) while a block is being parsed on both
    /// cores: the batch is rolled back, and when the same engine reads the lines again nothing the
    /// helper thread had parsed for the failed batch is left over to count twice.
    @Test func aWriteFailingWhileABlockIsParsedLeavesNothingToCountTwice() throws {
        let t = try Setup()
        t.settings.domlogs = nil
        t.settings.keepFiveMinuteDays = 0
        let log = t.h.folder.file("access_log")
        t.settings.accessLogs = [log]
        let expected = CatchUpLog()
        try LogWriter.append(log, expected.text)
        let db = try t.h.database()
        try db.write { db in
            try db.execute(sql: "CREATE TABLE fail_5min (n INTEGER)")
            try db.execute(sql: """
                CREATE TRIGGER fail_5min_insert BEFORE INSERT ON bandwidth_5min WHEN EXISTS (SELECT 1 FROM fail_5min)
                BEGIN SELECT RAISE(ABORT, 'database or disk is full (test)'); END
                """)
            try db.execute(sql: "INSERT INTO fail_5min VALUES (1)")
        }
        let engine = try t.engine()
        #expect(throws: (any Error).self) { _ = try engine.run() }
        try db.write { db in try db.execute(sql: "DELETE FROM fail_5min") }
        _ = try engine.run()
        try expected.expectStored(in: t)
        #expect(try t.h.count("SELECT lines_read FROM driver_stats") == expected.lines)
    }

    /// A database from before the 5-minute table was keyed by period (schema 2) keeps every row
    /// through the change, and the driver adds to them afterwards.
    @Test func theFiveMinuteTableKeyedByPeriodKeepsEveryOlderRow() throws {
        let t = try Setup()
        t.settings.keepFiveMinuteDays = 0
        let all = CpBandwdDriver.descriptor.migrations
        let before = all.upTo(2)
        let old = try Store.openWriter(path: t.h.settings.database, modules: [engineMigrations, before])
        try old.write { db in
            for i in 0..<100 {
                try db.execute(sql: "INSERT INTO bandwidth_5min VALUES (?, ?, 'http', ?, ?, 1)",
                               arguments: ["bob", "bobsbikes.example", 1_796_083_200 + Int64(i % 10) * 300 + Int64(i / 10) * 86400, i])
            }
        }
        try old.close()
        try LogWriter.append(t.domlogs + "/bobsbikes.example", Self.line("01/Dec/2026:00:00:00", "1000"))
        try t.run()
        #expect(try t.h.count("SELECT COUNT(*) FROM bandwidth_5min") == 100)
        #expect(try t.h.count("SELECT SUM(bytes) FROM bandwidth_5min") == (0..<100).reduce(0, +) + 1000)
        #expect(try t.h.count("SELECT bytes FROM bandwidth_5min WHERE period = 1796083200") == 1000)
        #expect(try t.h.count("SELECT COUNT(*) FROM sqlite_master WHERE name = 'bandwidth_5min_period'") == 0)
        let key = try t.h.database().read { db in try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'bandwidth_5min'") }
        #expect(key?.contains("PRIMARY KEY (period, user, domain, protocol)") == true)
    }

    /// `dd/Mon/yyyy:HH:MM:SS +0000` for a Unix time.
    static func clf(_ time: Int64) -> String {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: Double(time)))
        return String(format: "%02d/%@/%04d:%02d:%02d:%02d +0000", c.day!, months[c.month! - 1], c.year!, c.hour!, c.minute!, c.second!)
    }

    @Test(.enabled(if: Corpus.file("access/semicomplete.com-2015-05.log") != nil, "the shared corpus is not beside the project"))
    func theSemicompleteLogServedAsOneDomainGivesTheReferenceDays() throws {
        let t = try Setup()
        try LogWriter.copy(Corpus.file("access/semicomplete.com-2015-05.log")!, t.domlogs + "/semicomplete.com")
        try t.run()
        let days = try t.rows(by: .day)
        #expect(days.map(\.bytes) == [414_259_902, 788_636_158, 665_827_339, 878_559_341])
        #expect(days.map(\.hits) == [1632, 2893, 2896, 2579])
        #expect(try t.rows().first?.bytes == 2_747_282_740)
    }

    @Test func dovecotSessionsCountForTheMailboxOwner() throws {
        let t = try Setup()
        let maillog = t.h.folder.file("maillog")
        t.settings.maillog = maillog
        try LogWriter.append(maillog, """
            2026-11-30T10:00:00.123456+00:00 server dovecot[811]: imap(carol@carolcakes.example)<4242><abc>: Logged out in=120 out=3000 deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0
            2026-11-30T10:00:01+00:00 server dovecot[811]: pop3(bob@bobsbikes.example)<4243><def>: Disconnected: Logged out top=1/100, retr=2/5000, del=0/2, size=5100
            2026-11-30T10:00:02+00:00 server dovecot[811]: imap-login: Login: user=<bob@bobsbikes.example>, method=PLAIN, rip=203.0.113.9, lip=192.0.2.1, mpid=4244, TLS
            2026-11-30T10:00:03+00:00 server dovecot[811]: imap(x bytes=1/999999)<1><s>: Logged out in=1 out=2
            2026-11-30T10:00:04+00:00 server postfix/smtpd[9]: imap(bob@bobsbikes.example): Logged out in=1 out=999999
            2026-11-30T10:00:05+00:00 server dovecot: IMAP(bob): Disconnected: Logged out bytes=748/17264
            2026-11-30T10:00:06+00:00 server dovecot: imap(bob@bobsbikes.example)<1><a>: expunge: box=INBOX, uid=1, msgid=<x@y>, size=10, subject=hi in=999999999999999 out=999999999999999

            """)
        try t.run()
        let rows = Dictionary(uniqueKeysWithValues: try t.rows().map { ("\($0.user)/\($0.protocol)", $0.bytes) })
        #expect(rows == ["carol/imap": 3120, "bob/pop3": 5100, "x bytes=1/999999/imap": 3, "bob/imap": 18012])
    }

    @Test func ftpTransfersCountForTheLocalUserOrTheVirtualAccountsDomain() throws {
        let t = try Setup()
        let xferlog = t.h.folder.file("xferlog")
        t.settings.xferlog = xferlog
        try LogWriter.append(xferlog, """
            Mon Nov 30 10:00:00 2026 1 203.0.113.9 4096 /home/bob/public_html/a file with spaces.txt b _ i r bob ftp 0 * c
            Mon Nov 30 10:00:05 2026 2 203.0.113.9 1000 /home/carol/x.zip b _ o r uploads@carolcakes.example ftp 0 * c
            Tue Dec  1 00:00:00 2026 0 203.0.113.9 7 /x b _ o r bob ftp 0 * i
            garbage line

            """)
        try t.run()
        let rows = Dictionary(uniqueKeysWithValues: try t.rows().map { ("\($0.user)/\($0.protocol)/\($0.domain)", $0.bytes) })
        #expect(rows == ["bob/ftp/": 4103, "carol/ftp/carolcakes.example": 1000])
        #expect(try t.rows(by: .month, user: "bob").map(\.bytes) == [4096, 7])
        #expect(try t.h.count("SELECT lines_rejected FROM driver_stats") == 1)
    }

    @Test func limitsFireOncePerLevelMarkTheAccountAndReleaseItWhenRaised() throws {
        let t = try Setup()
        let limitsFile = try t.h.folder.write("bwlimits", "# user: bytes per month\nbob: 1000\ncarol: 1G\nbroken line\n")
        let marked = t.h.folder.file("bwlimited")
        let notified = t.h.folder.file("notified.txt")
        let script = try t.h.folder.write("notify.sh", "#!/bin/sh\necho \"$@\" >> \(notified)\n")
        chmod(script, 0o755)
        t.settings.limits = limitsFile
        t.settings.limitedDirectory = marked
        t.settings.notifyCommand = script
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "dd/MMM/yyyy:HH:mm:ss"
        let now = f.string(from: Date())
        let log = t.domlogs + "/bobsbikes.example"
        func notifications() -> [String] {
            ((try? String(contentsOfFile: notified, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init).sorted()
        }
        try LogWriter.append(log, Self.line(now, "850"))
        try t.run()
        try LogWriter.append(log, Self.line(now, "100"))
        try t.run()
        #expect(!FileManager.default.fileExists(atPath: marked + "/bob"))
        try LogWriter.append(log, Self.line(now, "100"))
        try t.run()
        try t.run() // nothing new: nothing fires again
        #expect(FileManager.default.fileExists(atPath: marked + "/bob"))
        #expect(FileManager.default.fileExists(atPath: marked + "/bobsbikes.example"))
        #expect(FileManager.default.fileExists(atPath: marked + "/shop.bobsbikes.example"))
        #expect(try t.h.count("SELECT COUNT(*) FROM bandwidth_overlimit WHERE user = 'bob'") == 1)
        let expected = ["bob bobsbikes.example 100 1000 1050", "bob bobsbikes.example 80 1000 850", "bob bobsbikes.example 90 1000 950"]
        #expect(eventually { notifications() == expected })
        // The limit is raised: the account is released at the next check.
        try "bob: 2000\n".write(toFile: limitsFile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(5)], ofItemAtPath: limitsFile)
        try t.run()
        #expect(!FileManager.default.fileExists(atPath: marked + "/bob"))
        #expect(!FileManager.default.fileExists(atPath: marked + "/bobsbikes.example"))
        #expect(try t.h.count("SELECT COUNT(*) FROM bandwidth_overlimit") == 0)
        #expect(notifications() == expected)
        // A late line of an earlier month neither warns nor blocks.
        try LogWriter.append(log, Self.line(f.string(from: Date().addingTimeInterval(-40 * 86400)), "5000"))
        try t.run()
        #expect(!FileManager.default.fileExists(atPath: marked + "/bob"))
        // The raised limit re-armed the levels: 80 % of 2000 warns again.
        try LogWriter.append(log, Self.line(now, "600"))
        try t.run()
        #expect(eventually { notifications() == (expected + ["bob bobsbikes.example 80 2000 1650"]).sorted() })
    }

}
