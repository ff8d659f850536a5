import Foundation
import GRDB
import Testing
import EximStats
import TailWatchEngine
import TestSupport

/// A catch-up's large blocks are parsed, applied and written on two threads, rows going in by
/// multi-row INSERTs (`TwoThreadWalk` with `finish`, `MailRowWriter`): the same mainlog fed a few
/// lines at a time (one thread, one row per INSERT) must store exactly the same.
@Suite struct PipelinedWriteTests {
    /// Messages 0..<300 arrive in a first run; the second run's large log delivers them among
    /// thousands of new messages (their senders are found in `mail_arrivals` by the write step),
    /// holds lines whose time goes back (ids below the table's highest: one row per INSERT), a
    /// delivery of a message never seen, failures, deferrals and rejections.
    static func logs() -> (first: String, second: String) {
        var first = ""
        for i in 0..<300 {
            let who = i % 3 == 0 ? "carol@carolcakes.example" : "bob@bobsbikes.example"
            first += "2026-11-02 08:00:\(String(format: "%02d", i % 60)) \(MainlogGenerator.messageID(i)) <= \(who) H=(l) [203.0.113.5] P=esmtpa A=dovecot_login:\(who) S=\(100 + i) for r\(i)@example.org\n"
        }
        var second = ""
        let generated = MainlogGenerator.lines(300..<6300, start: 1_793_610_000).split(separator: "\n", omittingEmptySubsequences: true)
        for (k, line) in generated.enumerated() {
            second += line + "\n"
            guard k % 60 == 0 else { continue }
            let i = k / 60
            let id = MainlogGenerator.messageID(i)
            switch i % 4 {
            case 0: second += "2026-11-02 09:30:00 \(id) => r\(i)@example.org R=dkim_lookuphost T=dkim_remote_smtp H=mx.example.org [198.51.100.7] C=\"250 OK\"\n"
            case 1: second += "2026-11-02 09:30:00 \(id) ** r\(i)@example.org R=dkim_lookuphost T=dkim_remote_smtp H=mx.example.org [198.51.100.7]: 550 no such user\n"
            case 2: second += "2026-11-02 09:30:00 \(id) == r\(i)@example.org R=dkim_lookuphost T=dkim_remote_smtp defer (-44): 451 greylisted\n"
            default: second += "2026-11-02 09:30:00 H=(spam) [198.18.0.\(i % 200)] F=<s\(i)@spam.example> rejected RCPT <r\(i)@bobsbikes.example>: relay not permitted\n"
            }
            if i % 25 == 0 { second += "2026-11-02 09:30:01 1vQzzz-0001Ab-7Q => lost@example.org R=r T=remote_smtp H=mx [198.51.100.9]\n" }
        }
        return (first, second)
    }

    static let userdomains = "bobsbikes.example: bob\ncarolcakes.example: carol\n" + MainlogGenerator.userdomains()

    /// What a database holds, ids left out (they may differ where a run restarted).
    static func stored(_ h: EximStatsHarness) throws -> [String] {
        try h.database().read { db in
            let deliveries = try String.fetchAll(db, sql: """
                SELECT d.msgid || ' ' || d.kind || ' ' || u.name || ' ' || dn.name || ' ' || IFNULL(d.sender, '-') || ' '
                    || IFNULL(sd.name, '-') || ' ' || d.recipient || ' ' || IFNULL(rd.name, '-') || ' ' || IFNULL(r.name, '-') || ' '
                    || IFNULL(t.name, '-') || ' ' || IFNULL(hn.name, '-') || ' ' || IFNULL(ipn.name, '-') || ' ' || IFNULL(d.message, '-')
                FROM mail_deliveries d JOIN mail_names u ON u.id = d.user JOIN mail_names dn ON dn.id = d.domain
                LEFT JOIN mail_names sd ON sd.id = d.sender_domain LEFT JOIN mail_names rd ON rd.id = d.recipient_domain
                LEFT JOIN mail_names r ON r.id = d.router LEFT JOIN mail_names t ON t.id = d.transport
                LEFT JOIN mail_names hn ON hn.id = d.host LEFT JOIN mail_names ipn ON ipn.id = d.ip
                ORDER BY d.id
                """)
            let arrivals = try String.fetchAll(db, sql: """
                SELECT a.msgid || ' ' || u.name || ' ' || a.sender || ' ' || a.size || ' ' || a.recipients || ' '
                    || IFNULL(p.name, '-') || ' ' || IFNULL(au.name, '-')
                FROM mail_arrivals a JOIN mail_names u ON u.id = a.user
                LEFT JOIN mail_names p ON p.id = a.protocol LEFT JOIN mail_names au ON au.id = a.auth ORDER BY a.id
                """)
            let rejects = try String.fetchAll(db, sql: "SELECT IFNULL(ip, '-') || ' ' || IFNULL(sender, '-') || ' ' || IFNULL(recipient, '-') FROM mail_rejects ORDER BY id")
            return deliveries + arrivals + rejects
        }
    }

    static func trace(_ h: EximStatsHarness, _ query: MailTrace.Query) throws -> [String] {
        try h.database().read { db in try MailTrace.rows(db, query) }.map { "\($0.messageID ?? "-") \($0.result) \($0.user ?? "-") \($0.recipient ?? "-")" }
    }

    @Test func aCatchUpOnTwoThreadsStoresWhatLineByLineStores() throws {
        let (first, second) = Self.logs()
        #expect(second.utf8.count > 4 * TwoThreadWalk.minimumBytes, "large enough for blocks walked on two threads")

        let pipelined = try EximStatsHarness(userdomains: Self.userdomains)
        try pipelined.append(first)
        try pipelined.runOnce()
        try pipelined.append(second)
        try pipelined.runOnce()

        // The same lines, appended a few at a time: each run reads blocks too small for a second thread.
        let alone = try EximStatsHarness(userdomains: Self.userdomains)
        try alone.append(first)
        try alone.runOnce()
        let lines = second.split(separator: "\n", omittingEmptySubsequences: true)
        for start in stride(from: 0, to: lines.count, by: 1500) {
            try alone.append(lines[start..<min(lines.count, start + 1500)].joined(separator: "\n") + "\n")
            try alone.runOnce()
        }

        #expect(try pipelined.mail(by: .hour) == alone.mail(by: .hour))
        let stored = try Self.stored(pipelined)
        // Sorted: rows of one second sort by a sequence that a restart (the line-by-line side) resumes elsewhere.
        let other = try Self.stored(alone)
        #expect(stored.count == other.count)
        #expect(stored.sorted() == other.sorted(), "the same rows")
        #expect(stored.count > 12_000)

        // Senders the write step found in mail_arrivals: bob's and carol's deliveries are theirs,
        // in the hourly sums as in the rows.
        let byUser = Dictionary(uniqueKeysWithValues: try pipelined.mail().map { ($0.user, $0) })
        #expect(byUser["bob"].map { [$0.sent, $0.delivered, $0.failed, $0.deferred] } == [200, 50, 50, 50])
        #expect(byUser["carol"].map { [$0.sent, $0.delivered, $0.failed, $0.deferred] } == [100, 25, 25, 25])
        #expect(byUser["UNKNOWN"]?.delivered == 12)
        #expect(try pipelined.count("SELECT COUNT(*) FROM mail_deliveries WHERE sender = 'carol@carolcakes.example'") == 75)

        // The search blocks file every row once, whichever path wrote it.
        for query in [MailTrace.Query(user: "carol"), .init(recipient: "@example.org", result: .failed), .init(messageID: MainlogGenerator.messageID(12)), .init(result: .rejected)] {
            let (a, b) = (try Self.trace(pipelined, query), try Self.trace(alone, query))
            #expect(!a.isEmpty && a.sorted() == b.sorted(), "the same rows for \(query)")
        }
        #expect(try Self.trace(pipelined, .init(messageID: MainlogGenerator.messageID(12))) == ["\(MainlogGenerator.messageID(12)) delivered carol r12@example.org"])
    }

    /// A log where every delivery reaches a domain and MX of its own (a spam run): each name is
    /// new to `MailNames`, on both paths; they store the same rows, every name where it belongs.
    @Test func aNewNameOnEveryLineIsStoredAlikeOnBothPaths() throws {
        var text = ""
        for i in 0..<5000 {
            let id = MainlogGenerator.messageID(i)
            let time = "2026-11-02 09:\(String(format: "%02d", i / 100 % 60)):\(String(format: "%02d", i % 60))"
            text += "\(time) \(id) <= bob@bobsbikes.example H=(l) [203.0.113.5] P=esmtpa\(i % 2 == 0 ? "" : "\(i % 7)") A=dovecot_login:bob@bobsbikes.example S=10 for r\(i)@d\(i).example\n"
            text += "\(time) \(id) => r\(i)@d\(i).example R=dkim_lookuphost T=remote_smtp\(i % 3) H=mx\(i).d\(i).example [10.0.\(i / 250).\(i % 250)] C=\"250 OK\"\n"
            if i % 10 == 0 { text += "\(time) \(id) == r\(i)x@d\(i + 1).example R=dkim_lookuphost T=remote_smtp defer (-44) H=mx\(i + 1).d\(i + 1).example [10.1.\(i / 250).\(i % 250)]: 451 later\n" }
        }
        #expect(text.utf8.count > 4 * TwoThreadWalk.minimumBytes, "large enough for blocks walked on two threads")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        func stored(linesPerRun: Int) throws -> [String] {
            let h = try EximStatsHarness()
            for start in stride(from: 0, to: lines.count, by: linesPerRun) {
                try h.append(lines[start..<min(lines.count, start + linesPerRun)].joined(separator: "\n") + "\n")
                try h.runOnce()
            }
            #expect(try h.count("SELECT COUNT(DISTINCT recipient_domain) FROM mail_deliveries") == 5000)
            return try Self.stored(h).sorted()
        }
        let whole = try stored(linesPerRun: lines.count)
        #expect(whole.count == 5000 + 5000 + 500)
        #expect(whole.contains { $0.contains(" r4321@d4321.example d4321.example dkim_lookuphost remote_smtp1 mx4321.d4321.example 10.0.17.71 ") })
        #expect(try stored(linesPerRun: 700) == whole, "line by line")
    }

    /// Rows go 16 to a multi-row INSERT only when none of their ids is taken. Here the second run
    /// numbers its rows of 09:00:00 from the sequence after the highest id (a row of 09:00:10,
    /// logged first), which the first run's rows of 09:00:00 already hold: every row is still stored.
    @Test func rowsOlderThanTheHighestStoredNeverOverwriteOrLoseOne() throws {
        let h = try EximStatsHarness()
        func arrivals(_ range: Range<Int>, at time: String) -> String {
            range.map { "2026-11-02 \(time) \(MainlogGenerator.messageID($0)) <= a\($0)@remote.example H=mx [198.51.100.1] P=esmtp S=1 for bob@bobsbikes.example\n" }.joined()
        }
        try h.append(arrivals(0..<1, at: "09:00:10") + arrivals(1..<41, at: "09:00:00"))
        try h.runOnce()
        try h.append(arrivals(41..<81, at: "09:00:00"))
        try h.runOnce()
        #expect(try h.count("SELECT COUNT(*) FROM mail_arrivals") == 81)
        #expect(try h.count("SELECT COUNT(DISTINCT msgid) FROM mail_arrivals") == 81)
        #expect(try h.count("SELECT COUNT(*) FROM mail_arrivals WHERE id >> 20 != CAST(strftime('%s', '2026-11-02 09:00:00') AS INTEGER)") == 1)
        #expect(try h.mail().first?.sent == 81)
    }

    /// A write that fails mid-block (here a trigger refuses one delivery) rolls the batch back
    /// while later pieces were already applied, with names of their own (each message comes from a
    /// new domain). The daemon retries: every row is then stored once, under the right names.
    @Test func aWriteThatFailsMidBlockIsRetriedWithEveryNameRight() throws {
        let h = try EximStatsHarness()
        try h.append("")
        try h.runOnce()
        try h.database().write { db in
            try db.execute(sql: """
                CREATE TRIGGER refuse_for_test BEFORE INSERT ON mail_deliveries WHEN NEW.recipient = 'boom@bobsbikes.example'
                BEGIN SELECT RAISE(ABORT, 'refused for the test'); END
                """)
        }
        var text = ""
        for i in 0..<6000 {
            let id = MainlogGenerator.messageID(i)
            let recipient = i == 400 ? "boom" : "bob"
            text += "2026-11-02 09:00:\(String(format: "%02d", i % 60)) \(id) <= s\(i)@dom\(i).example H=mx.dom\(i).example [198.51.100.1] P=esmtp S=10 for \(recipient)@bobsbikes.example\n"
            text += "2026-11-02 09:00:\(String(format: "%02d", i % 60)) \(id) => \(recipient) <\(recipient)@bobsbikes.example> R=virtual_user T=dovecot_virtual_delivery\n"
        }
        #expect(text.utf8.count > 2 * TwoThreadWalk.minimumBytes)
        let daemon = h.startDaemon()
        defer { try? daemon.stop() }
        try h.append(text)
        // The batch fails and is rolled back (nothing of it stays); then the trigger goes, and the retry stores it all.
        usleep(500_000)
        #expect(try h.count("SELECT COUNT(*) FROM mail_deliveries") == 0)
        try h.database().write { db in try db.execute(sql: "DROP TRIGGER refuse_for_test") }
        #expect(eventually(timeout: 20) { (try? h.count("SELECT COUNT(*) FROM mail_deliveries")) == 6000 })
        try daemon.stop()
        #expect(try h.count("SELECT COUNT(*) FROM mail_arrivals") == 6000)
        // Each arrival's domain is its own sender's, and each delivery's sender domain too.
        #expect(try h.count("SELECT COUNT(*) FROM mail_arrivals a JOIN mail_names d ON d.id = a.domain WHERE a.sender = 's' || substr(d.name, 4, instr(d.name, '.') - 4) || '@' || d.name") == 6000)
        #expect(try h.count("SELECT COUNT(*) FROM mail_deliveries x JOIN mail_names d ON d.id = x.sender_domain WHERE x.sender LIKE '%@' || d.name") == 6000)
        #expect(try h.mail(user: "-remote-").first.map { [$0.sent, $0.delivered] } == [6000, 6000])
    }
}
