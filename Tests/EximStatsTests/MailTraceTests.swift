import Foundation
import GRDB
import Testing
@testable import EximStats
import TailWatchEngine
import TestSupport

/// `mail trace`: each filter, odd bytes in ids and addresses, a trace across a rotation, and the
/// search blocks against a plain scan of the rows.
@Suite struct MailTraceTests {
    /// Two messages from bob (one delivered to two addresses, one deferred then failed), one from
    /// carol, one arriving from outside, and a rejection.
    static let log = """
        2026-11-02 10:00:00 1vQx0a-0001Ab-7Q <= bob@bobsbikes.example H=(laptop) [203.0.113.5] P=esmtpa A=dovecot_login:bob@bobsbikes.example S=2048 for Ann@Gmail.example cc@partner.example
        2026-11-02 10:00:01 1vQx0a-0001Ab-7Q => Ann@Gmail.example R=dnslookup T=remote_smtp H=mx.gmail.example [198.51.100.7] C="250 OK"
        2026-11-02 10:00:01 1vQx0a-0001Ab-7Q -> cc@partner.example R=dnslookup T=remote_smtp H=mx.partner.example [198.51.100.8]
        2026-11-02 10:00:01 1vQx0a-0001Ab-7Q Completed
        2026-11-02 10:05:00 1vQx0b-0001Ab-7Q <= bob@bobsbikes.example H=(laptop) [203.0.113.5] P=esmtpa A=dovecot_login:bob@bobsbikes.example S=100 for gone@gmail.example
        2026-11-02 10:05:01 1vQx0b-0001Ab-7Q == gone@gmail.example R=dnslookup T=remote_smtp defer (-44) H=mx.gmail.example [198.51.100.7]: SMTP error from remote mail server after RCPT TO:<gone@gmail.example>: 451 Try later
        2026-11-02 10:35:01 1vQx0b-0001Ab-7Q ** gone@gmail.example R=dnslookup T=remote_smtp H=mx.gmail.example [198.51.100.7]: SMTP error from remote mail server after RCPT TO:<gone@gmail.example>: 550 No such user
        2026-11-02 11:00:00 1vQx0c-0001Ab-7Q <= carol@carolcakes.example U=carol P=local S=500 for ann@gmail.example
        2026-11-02 11:00:01 1vQx0c-0001Ab-7Q => ann@gmail.example R=dnslookup T=remote_smtp H=mx.gmail.example [198.51.100.7]
        2026-11-02 12:00:00 1vQx0d-0001Ab-7Q <= news@outside.example H=mx.outside.example [192.0.2.9] P=esmtps S=900 for bob@bobsbikes.example
        2026-11-02 12:00:01 1vQx0d-0001Ab-7Q => bob <bob@bobsbikes.example> R=virtual_user T=dovecot_delivery
        2026-11-02 12:30:00 H=(spammer) [198.18.0.66] F=<promo@spam.example> rejected RCPT <nobody@bobsbikes.example>: relay not permitted
        2026-11-02 12:31:00 H=(spammer) [198.18.0.66] F=<promo@spam.example> temporarily rejected RCPT <carol@carolcakes.example>: greylisted

        """

    static func trace(_ h: EximStatsHarness, _ query: MailTrace.Query) throws -> [String] {
        try h.database().read { db in try MailTrace.rows(db, query) }.map { "\($0.messageID ?? "-") \($0.result) \($0.recipient ?? "-")" }
    }

    @Test func eachFilterFindsExactlyItsRows() throws {
        let h = try EximStatsHarness()
        try h.append(Self.log)
        try h.runOnce()
        let all = try Self.trace(h, .init())
        #expect(all == [
            "- rejected carol@carolcakes.example", "- rejected nobody@bobsbikes.example",
            "1vQx0d-0001Ab-7Q delivered bob@bobsbikes.example", "1vQx0c-0001Ab-7Q delivered ann@gmail.example",
            "1vQx0b-0001Ab-7Q failed gone@gmail.example", "1vQx0b-0001Ab-7Q deferred gone@gmail.example",
            "1vQx0a-0001Ab-7Q delivered cc@partner.example", "1vQx0a-0001Ab-7Q delivered Ann@Gmail.example",
        ])
        // Addresses match without regard to case; each row shows the address as its line wrote it.
        #expect(try Self.trace(h, .init(recipient: "ann@gmail.example")) == ["1vQx0c-0001Ab-7Q delivered ann@gmail.example", "1vQx0a-0001Ab-7Q delivered Ann@Gmail.example"])
        #expect(try Self.trace(h, .init(recipient: "@GMAIL.example")).count == 4)
        // A delivery logged as `name <address>` is found by the address.
        #expect(try Self.trace(h, .init(recipient: "bob@bobsbikes.example")) == ["1vQx0d-0001Ab-7Q delivered bob@bobsbikes.example"])
        #expect(try Self.trace(h, .init(recipient: "@gmail.example", result: .failed)) == ["1vQx0b-0001Ab-7Q failed gone@gmail.example"])
        #expect(try Self.trace(h, .init(sender: "bob@bobsbikes.example")).count == 4)
        #expect(try Self.trace(h, .init(sender: "@bobsbikes.example", result: .delivered)).count == 2)
        #expect(try Self.trace(h, .init(sender: "promo@spam.example")) == ["- rejected carol@carolcakes.example", "- rejected nobody@bobsbikes.example"])
        #expect(try Self.trace(h, .init(user: "carol")) == ["1vQx0c-0001Ab-7Q delivered ann@gmail.example"])
        #expect(try Self.trace(h, .init(user: "-remote-")) == ["1vQx0d-0001Ab-7Q delivered bob@bobsbikes.example"])
        #expect(try Self.trace(h, .init(messageID: "1vQx0b-0001Ab-7Q")) == ["1vQx0b-0001Ab-7Q failed gone@gmail.example", "1vQx0b-0001Ab-7Q deferred gone@gmail.example"])
        #expect(try Self.trace(h, .init(result: .deferred)) == ["1vQx0b-0001Ab-7Q deferred gone@gmail.example"])
        #expect(try Self.trace(h, .init(result: .rejected)).count == 2)
        // A time range, a limit, and combinations.
        let eleven = Int64(1_793_617_200)  // 2026-11-02 11:00:00 UTC
        #expect(try Self.trace(h, .init(since: eleven, until: eleven + 3600)) == ["1vQx0c-0001Ab-7Q delivered ann@gmail.example"])
        #expect(try Self.trace(h, .init(limit: 3)) == Array(all.prefix(3)))
        #expect(try Self.trace(h, .init(sender: "bob@bobsbikes.example", recipient: "cc@partner.example")) == ["1vQx0a-0001Ab-7Q delivered cc@partner.example"])
        // Names never stored, and filters that contradict each other, find nothing.
        #expect(try Self.trace(h, .init(recipient: "nobody@nowhere.example")).isEmpty)
        #expect(try Self.trace(h, .init(user: "carol", messageID: "1vQx0a-0001Ab-7Q")).isEmpty)
        #expect(try Self.trace(h, .init(user: "bob", result: .rejected)).isEmpty)
        // The fields of one row.
        let failed = try h.database().read { db in try MailTrace.rows(db, .init(result: .failed)) }
        #expect(failed.count == 1)
        #expect(failed.first?.sender == "bob@bobsbikes.example")
        #expect(failed.first?.user == "bob")
        #expect(failed.first?.transport == "remote_smtp")
        #expect(failed.first?.host == "mx.gmail.example")
        #expect(failed.first?.ip == "198.51.100.7")
        #expect(failed.first?.message == "SMTP error from remote mail server after RCPT TO:<gone@gmail.example>: 550 No such user")
        #expect(failed.first?.time == 1_793_615_701)
        let rejected = try h.database().read { db in try MailTrace.rows(db, .init(result: .rejected)) }
        #expect(rejected.map(\.temporary) == [true, false])
        #expect(rejected.last?.message == "relay not permitted")
        #expect(rejected.last?.ip == "198.18.0.66")
    }

    /// Hostile and odd bytes in message ids and addresses: stored as logged, found exactly, and a
    /// search for a pattern character finds only itself.
    @Test func oddBytesInIdsAndAddresses() throws {
        let h = try EximStatsHarness()
        var bytes = Array("2026-11-02 10:00:00 1vQx0a-0001Ab-7Q <= \"a b\"@odd.example H=(l) [203.0.113.5] P=esmtp S=1 for x@odd.example\n".utf8)
        bytes += Array("2026-11-02 10:00:01 1vQx0a-0001Ab-7Q => %_*@odd.example R=r T=remote_smtp H=h [198.51.100.7]\n".utf8)
        bytes += Array("2026-11-02 10:00:02 1vQx0a-0001Ab-7Q => caf".utf8) + [0xE9, 0xFF] + Array("@odd.example R=r T=remote_smtp H=h [198.51.100.7]\n".utf8)
        bytes += Array("2026-11-02 10:00:03 1vQx0a-0001Ab-7Q => x'; DROP TABLE mail_names; --@odd.example R=r T=t\n".utf8)
        try LogWriter.append(h.log, bytes)
        try h.runOnce()
        #expect(try Self.trace(h, .init(recipient: "%_*@odd.example")) == ["1vQx0a-0001Ab-7Q delivered %_*@odd.example"])
        #expect(try Self.trace(h, .init(recipient: "%@odd.example")).isEmpty)
        #expect(try Self.trace(h, .init(recipient: "@odd.example")).count == 2)
        #expect(try Self.trace(h, .init(sender: "\"a b\"@odd.example")).count == 3)
        // The address ends at the first space, as exim writes it: the rest is not SQL to anyone.
        #expect(try Self.trace(h, .init(recipient: "x';")) == ["1vQx0a-0001Ab-7Q delivered x';"])
        #expect(try h.count("SELECT COUNT(*) FROM mail_names") > 0)
        // The invalid bytes are stored as they came, and found by those bytes.
        let found = try h.database().read { db in
            try Int64.fetchOne(db, sql: "SELECT id FROM mail_deliveries WHERE CAST(recipient AS BLOB) = ?", arguments: [Data(Array("caf".utf8) + [0xE9, 0xFF] + Array("@odd.example".utf8))])
        }
        #expect(found != nil)
        // A message id that is not one finds nothing (and is no error).
        #expect(try Self.trace(h, .init(messageID: "1vQx0a-0001Ab-7")).isEmpty)
        #expect(try Self.trace(h, .init(messageID: "%%%%%%-%%%%%%-%%")).isEmpty)
    }

    /// The arrival is in the rotated file, the deliveries in the new one: the trace names the sender
    /// and account, whether the arrival was committed before the rotation or is read from the
    /// rotated file's rest after it.
    @Test func aTraceAcrossARotation() throws {
        for readBetween in [true, false] {
            let h = try EximStatsHarness()
            try h.append("2026-11-02 09:00:00 Start queue run: pid=1\n")
            try h.runOnce()
            try h.append("2026-11-02 10:00:00 1vQx0a-0001Ab-7Q <= bob@bobsbikes.example H=(l) [203.0.113.5] P=esmtpa A=dovecot_login:bob@bobsbikes.example S=10 for z@zz.example\n")
            if readBetween { try h.runOnce() }
            LogWriter.rename(h.log, h.log + ".1")
            try h.append("2026-11-02 10:00:05 1vQx0a-0001Ab-7Q => z@zz.example R=r T=remote_smtp H=mx.zz.example [198.51.100.9]\n")
            try h.runOnce()
            let rows = try h.database().read { db in try MailTrace.rows(db, .init(recipient: "z@zz.example")) }
            #expect(rows.count == 1)
            #expect(rows.first?.sender == "bob@bobsbikes.example", "read between: \(readBetween)")
            #expect(rows.first?.user == "bob", "read between: \(readBetween)")
            #expect(try Self.trace(h, .init(user: "bob")) == ["1vQx0a-0001Ab-7Q delivered z@zz.example"])
        }
    }

    /// Thousands of rows over many blocks, written in several batches and runs: for a spread of
    /// queries, the trace equals a plain scan of every row (no block skipped what it held, and
    /// the newest-first order and limit are exact).
    @Test func searchBlocksAnswerLikeAFullScan() throws {
        let h = try EximStatsHarness()
        var generator = SeededGenerator(seed: 20)
        var text = ""
        let start = 1_793_610_000
        for i in 0..<6000 {
            let t = start + i * 7
            let stamp = Self.stamp(t)
            let id = "1w\(String(format: "%04d", i % 9999))-000\(i % 10)Ab-7Q"
            let user = ["bob", "carol"][Int.random(in: 0...1, using: &generator)]
            let domain = user == "bob" ? "bobsbikes.example" : "carolcakes.example"
            let rcpt = "r\(Int.random(in: 0..<400, using: &generator))@d\(Int.random(in: 0..<7, using: &generator)).example"
            text += "\(stamp) \(id) <= \(user)@\(domain) U=\(user) P=local S=10 for \(rcpt)\n"
            let fate = Int.random(in: 0..<10, using: &generator)
            let flag = fate < 7 ? "=>" : fate < 9 ? "==" : "**"
            text += "\(stamp) \(id) \(flag) \(rcpt) R=r T=remote_smtp H=mx [198.51.100.7]\(flag == "=>" ? "" : ": 4xx try later")\n"
            if i % 1500 == 1499 {
                try h.append(text)
                text = ""
                try h.runOnce()
            }
        }
        #expect(try h.count("SELECT COUNT(*) FROM mail_search_blocks WHERE tbl = 0") >= 6)
        let queries: [MailTrace.Query] = [
            .init(recipient: "r17@d3.example", limit: 1000), .init(recipient: "@d5.example", limit: 50),
            .init(recipient: "@d5.example", result: .deferred, limit: 1000), .init(user: "carol", limit: 250),
            .init(sender: "bob@bobsbikes.example", recipient: "@d1.example", result: .failed, limit: 1000),
            .init(messageID: "1w0042-0002Ab-7Q"), .init(user: "bob", since: Int64(start + 10_000), until: Int64(start + 20_000), limit: 1000),
        ]
        for query in queries {
            let traced = try h.database().read { db in try MailTrace.rows(db, query) }
            let scanned = try h.database().read { db in try Self.fullScan(db, query) }
            #expect(traced.map(\.id) == scanned, "\(query)")
            #expect(!scanned.isEmpty, "\(query) should find rows")
        }
    }

    /// A live log's trickle: the daemon commits after each of five appends, so the one block being
    /// filled is written at the first commit and rewritten at the next four. It stays one row, with
    /// every row's range and keys: a message of the first append and one of the last are found.
    @Test func aBlockOpenAcrossCommitsIsRewrittenInPlace() throws {
        let h = try EximStatsHarness()
        let daemon = h.startDaemon()
        defer { try? daemon.stop() }
        let start = 1_793_610_000
        for chunk in 0..<5 {
            var text = ""
            for i in (chunk * 100)..<(chunk * 100 + 100) {
                let stamp = Self.stamp(start + i)
                let id = "1w\(String(format: "%04d", i))-0001Ab-7Q"
                text += "\(stamp) \(id) <= bob@bobsbikes.example U=bob P=local S=10 for r\(i)@d\(i % 7).example\n"
                text += "\(stamp) \(id) => r\(i)@d\(i % 7).example R=r T=remote_smtp H=mx [198.51.100.7]\n"
            }
            try h.append(text)
            #expect(eventually { (try? h.count("SELECT COUNT(*) FROM mail_deliveries")) == chunk * 100 + 100 })
        }
        try daemon.stop()
        #expect(try h.count("SELECT COUNT(*) FROM mail_search_blocks WHERE tbl = 0") == 1)
        #expect(try h.count("SELECT rows FROM mail_search_blocks WHERE tbl = 0") == 500)
        let spansTheRows = "SELECT COUNT(*) FROM mail_search_blocks WHERE min_id = (SELECT MIN(id) FROM mail_deliveries) AND max_id = (SELECT MAX(id) FROM mail_deliveries)"
        #expect(try h.count(spansTheRows) == 1)
        #expect(try Self.trace(h, .init(recipient: "r3@d3.example")) == ["1w0003-0001Ab-7Q delivered r3@d3.example"])
        #expect(try Self.trace(h, .init(recipient: "r498@d1.example")) == ["1w0498-0001Ab-7Q delivered r498@d1.example"])
        #expect(try Self.trace(h, .init(messageID: "1w0499-0001Ab-7Q")).count == 1)
    }

    /// The ids a plain scan of `mail_delivery_rows` finds for `query`, newest first.
    static func fullScan(_ db: Database, _ q: MailTrace.Query) throws -> [Int64] {
        var conditions = ["1"]
        var arguments: StatementArguments = []
        if let s = q.sender { conditions.append("lower(sender) = lower(?)"); arguments += [s] }
        if let r = q.recipient {
            if r.hasPrefix("@") { conditions.append("lower(recipient) LIKE '%' || lower(?)"); arguments += [r] }
            else { conditions.append("lower(recipient) = lower(?)"); arguments += [r] }
        }
        if let u = q.user { conditions.append("user = ?"); arguments += [u] }
        if let m = q.messageID { conditions.append("msgid = ?"); arguments += [m] }
        switch q.result {
        case .delivered: conditions.append("kind <= 3")
        case .deferred: conditions.append("kind = 5")
        case .failed: conditions.append("kind = 4")
        default: break
        }
        if let s = q.since { conditions.append("time >= ?"); arguments += [s] }
        if let u = q.until { conditions.append("time < ?"); arguments += [u] }
        return try Int64.fetchAll(db, sql: "SELECT id FROM mail_delivery_rows WHERE \(conditions.joined(separator: " AND ")) ORDER BY id DESC LIMIT \(q.limit)", arguments: arguments)
    }

    static func stamp(_ t: Int) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(t)))
    }
}

/// A database written before narrow rows (migrations 0001–0002): migration 0003 converts its rows,
/// the driver files them in search blocks when it opens it, and reports and searches answer as before.
@Suite struct NarrowRowsMigrationTests {
    @Test func anOlderDatabaseIsConvertedAndSearchable() throws {
        let h = try EximStatsHarness()
        let old = try h.openOlderDatabase(upTo: 2)
        let t: Int64 = 1_793_613_600  // 2026-11-02 10:00:00 UTC
        try old.write { db in
            try db.execute(sql: """
                INSERT INTO sends (id, time, msgid, user, domain, sender, size, host, ip, protocol, auth, subject, recipients)
                VALUES (\(t << 20), \(t), '1vQx0a-0001Ab-7Q', 'bob', 'bobsbikes.example', 'Bob@BobsBikes.example', 2048, '(laptop)', '203.0.113.5',
                        'esmtpa', 'dovecot_login:bob@bobsbikes.example', 'Hello', 'ann@gmail.example cc@partner.example');
                INSERT INTO smtp (id, time, msgid, user, domain, kind, recipient, router, transport, host, ip)
                VALUES (\((t + 1) << 20), \(t + 1), '1vQx0a-0001Ab-7Q', 'bob', 'bobsbikes.example', '=>', 'ann@gmail.example', 'dnslookup', 'remote_smtp', 'mx.gmail.example', '198.51.100.7'),
                       (\(((t + 1) << 20) + 1), \(t + 1), '1vQx0a-0001Ab-7Q', 'bob', 'bobsbikes.example', '->', 'cc@partner.example', 'dnslookup', 'remote_smtp', 'mx.partner.example', '198.51.100.8');
                INSERT INTO defers (id, time, msgid, user, domain, recipient, router, transport, host, ip, error)
                VALUES (\((t + 2) << 20), \(t + 2), '1vQx0a-0001Ab-7Q', 'bob', 'bobsbikes.example', 'late@gmail.example', 'dnslookup', 'remote_smtp', 'mx.gmail.example', '198.51.100.7', '451 later');
                INSERT INTO rejects (id, time, host, ip, sender, recipient, reason)
                VALUES (\((t + 3) << 20), \(t + 3), '(spammer)', '198.18.0.66', 'promo@spam.example', 'nobody@bobsbikes.example', 'relay not permitted');
                INSERT INTO mail_hourly (user, domain, hour, sent, sent_bytes, delivered, failed, deferred, remote_delivered)
                VALUES ('bob', 'bobsbikes.example', \(t), 1, 2048, 2, 0, 1, 2);
                """)
        }
        try h.append("2026-11-02 11:00:00 1vQx0c-0001Ab-7Q <= carol@carolcakes.example U=carol P=local S=500 for ann@gmail.example\n"
                     + "2026-11-02 11:00:01 1vQx0c-0001Ab-7Q => ann@gmail.example R=dnslookup T=remote_smtp H=mx.gmail.example [198.51.100.7]\n"
                     + "2026-11-02 11:00:02 1vQx0a-0001Ab-7Q => late@gmail.example R=dnslookup T=remote_smtp H=mx.gmail.example [198.51.100.7]\n")
        try h.runOnce()
        #expect(FileManager.default.fileExists(atPath: h.settings.database + ".before-upgrade"))
        // The old tables are views over the converted rows, with the same texts.
        #expect(try h.count("SELECT COUNT(*) FROM sends WHERE sender = 'Bob@BobsBikes.example' AND size = 2048 AND recipients = 2 AND auth = 'dovecot_login:bob@bobsbikes.example'") == 1)
        #expect(try h.count("SELECT COUNT(*) FROM smtp WHERE kind = '->' AND recipient = 'cc@partner.example' AND host = 'mx.partner.example'") == 1)
        #expect(try h.count("SELECT COUNT(*) FROM defers WHERE error = '451 later' AND time = \(t + 2)") == 1)
        #expect(try h.count("SELECT COUNT(*) FROM rejects WHERE reason = 'relay not permitted' AND ip = '198.18.0.66'") == 1)
        #expect(try h.count("SELECT COUNT(*) FROM mail_search_blocks") >= 2)
        // Searches find old and new rows alike; the old deferral's message has its sender.
        #expect(try MailTraceTests.trace(h, .init(recipient: "ANN@gmail.example")) == ["1vQx0c-0001Ab-7Q delivered ann@gmail.example", "1vQx0a-0001Ab-7Q delivered ann@gmail.example"])
        #expect(try MailTraceTests.trace(h, .init(sender: "bob@bobsbikes.example")).count == 4)
        #expect(try MailTraceTests.trace(h, .init(result: .rejected)) == ["- rejected nobody@bobsbikes.example"])
        // The delivery of an old message found its sender among the converted rows.
        #expect(try MailTraceTests.trace(h, .init(user: "bob", result: .delivered)).first == "1vQx0a-0001Ab-7Q delivered late@gmail.example")
        let totals = try h.mail()
        #expect(totals.map(\.user) == ["bob", "carol"])
        #expect(totals.first?.delivered == 3 && totals.first?.deferred == 1 && totals.first?.sentBytes == 2048)
    }
}

/// Retention purges search blocks with their rows: once every row of a block is past
/// `retention_days`, the block goes too, and a search never scans a purged range.
@Suite struct SearchBlockRetentionTests {
    @Test func blocksGoWithTheirRows() throws {
        let h = try EximStatsHarness()
        h.driverSettings.retentionDays = 10
        let now = Date()
        h.clock = now
        let stamp = MailTraceTests.stamp(Int(now.timeIntervalSince1970) - 5 * 86400)
        try h.append("\(stamp) 1vQx0a-0001Ab-7Q <= bob@bobsbikes.example U=bob P=local S=1 for a@x.example\n"
                     + "\(stamp) 1vQx0a-0001Ab-7Q => a@x.example R=r T=remote_smtp H=mx [198.51.100.7]\n"
                     + "\(stamp) H=(spammer) [198.18.0.66] F=<promo@spam.example> rejected RCPT <nobody@bobsbikes.example>: relay not permitted\n")
        try h.runOnce()
        #expect(try h.count("SELECT COUNT(*) FROM mail_search_blocks") == 2)
        #expect(try MailTraceTests.trace(h, .init(recipient: "a@x.example")) == ["1vQx0a-0001Ab-7Q delivered a@x.example"])
        // Six days later the rows are eleven days old: rows and blocks are purged.
        h.clock = now.addingTimeInterval(6 * 86400)
        try h.runOnce()
        #expect(try h.count("SELECT COUNT(*) FROM mail_deliveries") == 0)
        #expect(try h.count("SELECT COUNT(*) FROM mail_rejects") == 0)
        #expect(try h.count("SELECT COUNT(*) FROM mail_search_blocks") == 0)
        #expect(try MailTraceTests.trace(h, .init(recipient: "a@x.example")).isEmpty)
    }

    /// The purge takes an open block's row (its rows were older than the retention, lines of long
    /// ago read in) while the block goes on filling with newer rows: the next write puts the row
    /// back, with every row's keys, instead of updating nothing.
    @Test func anOpenBlockThePurgeTookIsWrittenAgain() throws {
        let folder = TemporaryFolder()
        let queue = try Store.openWriter(path: folder.file("db.sqlite3"), modules: [engineMigrations, EximStatsDriver.descriptor.migrations])
        try queue.inDatabase { db in
            let blocks = try SearchBlocks(db)
            try blocks.add(.deliveries, rowID: 1 << 20, .init(recipient: 11, user: 5))
            try blocks.flush()
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM mail_search_blocks") == 1)
            try db.execute(sql: "DELETE FROM mail_search_blocks")
            try blocks.add(.deliveries, rowID: 9 << 20, .init(recipient: 99, user: 5))
            try blocks.flush()
            let row = try #require(try Row.fetchOne(db, sql: "SELECT min_id, max_id, rows, recipients FROM mail_search_blocks"))
            #expect(row[0] as Int64 == 1 << 20 && row[1] as Int64 == 9 << 20 && row[2] as Int == 2)
            let stored: Data = row[3]
            let recipients = try #require(BloomFilter(bytes: [UInt8](stored)))
            #expect(recipients.mayContain(11) && recipients.mayContain(99))
        }
    }
}
