import Foundation
import GRDB
import Testing
import CpBandwd
import TailWatchEngine
import TestSupport

/// Accounts created (and removed) while the daemon runs: `/etc/userdomains` is re-read when it
/// changes, and traffic committed as UNKNOWN for a domain that then gets an owner moves to it.
@Suite struct AccountsWhileRunningTests {
    typealias Setup = CpBandwdDriverTests.Setup

    static func owners(_ t: Setup) throws -> [String: Int64] {
        try t.h.database().read { db in
            var result: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT user, domain, SUM(bytes) AS b FROM bandwidth_monthly GROUP BY user, domain") {
                result["\(row["user"] as String)/\(row["domain"] as String)"] = row["b"]
            }
            return result
        }
    }

    /// Every table's total for `user`/`domain` (the rollups must agree with the 5-minute rows).
    static func tableTotals(_ t: Setup, user: String, domain: String) throws -> [Int64] {
        try t.h.database().read { db in
            try ["bandwidth_5min", "bandwidth_hourly", "bandwidth_daily", "bandwidth_monthly"].map {
                try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(bytes), 0) FROM \($0) WHERE user = ? AND domain = ?", arguments: [user, domain]) ?? -1
            }
        }
    }

    @Test func aDomainAddedWhileRunningGetsItsTrafficUnderItsOwner() throws {
        let t = try Setup()
        t.settings.keepFiveMinuteDays = 0
        let log = t.domlogs + "/newshop.example"
        let daemon = t.h.startDaemon("cpbandwd", t.configured())
        defer { try? daemon.stop() }

        // The account does not exist yet: its first requests are nobody's.
        try LogWriter.append(log, CpBandwdDriverTests.line("01/Dec/2026:10:00:00", "100"))
        #expect(eventually { (try? Self.owners(t)["UNKNOWN/newshop.example"]) == 100 })

        // wwwacct adds it: what was UNKNOWN moves to dave, and new requests are dave's.
        try LogWriter.append(t.h.settings.userdomains, "newshop.example: dave\n")
        try LogWriter.append(log, CpBandwdDriverTests.line("01/Dec/2026:10:01:00", "20"))
        #expect(eventually { (try? Self.owners(t)) == ["dave/newshop.example": 120] })
        #expect(try Self.tableTotals(t, user: "dave", domain: "newshop.example") == [120, 120, 120, 120])

        try daemon.stop()
        #expect(try Self.tableTotals(t, user: "dave", domain: "newshop.example") == [120, 120, 120, 120])
    }

    @Test func aDomainRemovedAndGivenBackMergesItsUnknownRowsIntoTheOwnersRows() throws {
        let t = try Setup()
        t.settings.keepFiveMinuteDays = 0
        let log = t.domlogs + "/newshop.example"
        try LogWriter.append(t.h.settings.userdomains, "newshop.example: dave\n")
        try LogWriter.append(log, CpBandwdDriverTests.line("01/Dec/2026:10:01:00", "120"))
        try t.run()
        #expect(try Self.owners(t) == ["dave/newshop.example": 120])

        // The account is removed: new traffic is UNKNOWN, dave keeps what was his.
        try "bobsbikes.example: bob\n".write(toFile: t.h.settings.userdomains, atomically: true, encoding: .utf8)
        try LogWriter.append(log, CpBandwdDriverTests.line("01/Dec/2026:10:02:00", "3"))
        try t.run()
        #expect(try Self.owners(t) == ["dave/newshop.example": 120, "UNKNOWN/newshop.example": 3])

        // Given back to dave: the UNKNOWN rows merge into his rows of the same bucket, hour, day, month.
        try LogWriter.append(t.h.settings.userdomains, "newshop.example: dave\n")
        try t.run()
        #expect(try Self.owners(t) == ["dave/newshop.example": 123])
        #expect(try Self.tableTotals(t, user: "dave", domain: "newshop.example") == [123, 123, 123, 123])
        let counts = try t.h.database().read { db in
            try ["bandwidth_5min", "bandwidth_hourly", "bandwidth_monthly"].map { try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \($0)") ?? -1 }
        }
        #expect(counts == [1, 1, 1], "one row per bucket, hour and month: merged, not side by side")
        let hits = try t.h.database().read { db in try Int64.fetchOne(db, sql: "SELECT SUM(hits) FROM bandwidth_monthly WHERE user = 'dave'") }
        #expect(hits == 2)
    }

    @Test func rowsWrittenAsUnknownBeforeARestartMoveWhenTheDaemonStartsAgain() throws {
        let t = try Setup()
        try LogWriter.append(t.domlogs + "/www.later.example", CpBandwdDriverTests.line("01/Dec/2026:10:00:00", "7"))
        try LogWriter.append(t.domlogs + "/other.example", CpBandwdDriverTests.line("01/Dec/2026:10:00:00", "5"))
        try t.run()
        #expect(try Self.owners(t) == ["UNKNOWN/www.later.example": 7, "UNKNOWN/other.example": 5])
        // Added while the daemon was stopped; `www.` is owned through the bare domain.
        try LogWriter.append(t.h.settings.userdomains, "later.example: erin\n")
        try t.run()
        #expect(try Self.owners(t) == ["erin/www.later.example": 7, "UNKNOWN/other.example": 5])
        #expect(try Self.tableTotals(t, user: "erin", domain: "www.later.example") == [7, 7, 7, 7])
    }
}
