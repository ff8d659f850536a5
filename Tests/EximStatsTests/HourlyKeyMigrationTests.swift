import Foundation
import GRDB
import Testing
import EximStats
import TailWatchEngine
import TestSupport

/// Migration 0004 keys `mail_hourly` by hour first: an older database keeps its rows, reports
/// answer as before, an operator's view of it still reads it, and its UNKNOWN mail still moves to
/// a domain's new owner (through the partial index, not a read of the whole table).
@Suite struct HourlyKeyMigrationTests {
    @Test func anOlderRollupIsRekeyedAndItsUnknownMailStillMoves() throws {
        let h = try EximStatsHarness()
        let old = try h.openOlderDatabase(upTo: 3)
        let t: Int64 = 1_793_613_600  // 2026-11-02 10:00:00 UTC
        try old.write { db in
            try db.execute(sql: """
                INSERT INTO mail_hourly (user, domain, hour, sent, sent_bytes, delivered, failed, deferred, remote_delivered) VALUES
                    ('bob', 'bobsbikes.example', \(t), 2, 300, 2, 0, 1, 2),
                    ('bob', 'bobsbikes.example', \(t + 3600), 1, 100, 1, 1, 0, 1),
                    ('UNKNOWN', 'newshop.example', \(t), 4, 400, 4, 0, 0, 4);
                CREATE VIEW operator_daily AS SELECT user, hour / 86400 AS day, SUM(sent) AS sent FROM mail_hourly GROUP BY 1, 2;
                """)
        }
        try old.close()
        try LogWriter.append(h.settings.userdomains, "newshop.example: dave\n")
        try h.runOnce()

        let db = try h.database()
        let key = try db.read { db in
            let pk = try String.fetchOne(db, sql: "SELECT name FROM pragma_index_list('mail_hourly') WHERE origin = 'pk'")
            return try String.fetchAll(db, sql: "SELECT name FROM pragma_index_info(?) ORDER BY seqno", arguments: [pk])
        }
        #expect(key == ["hour", "user", "domain"])
        #expect(try db.read { db in try db.indexes(on: "mail_hourly").map(\.name) }.contains("mail_hourly_hour") == false)
        // Rows kept; the UNKNOWN hour is dave's now.
        let hours = try h.mail(by: .hour)
        #expect(hours.map(\.user) == ["bob", "dave", "bob"])
        #expect(hours.map(\.sent) == [2, 4, 1])
        #expect(hours.map(\.failed) == [0, 0, 1])
        #expect(try h.count("SELECT SUM(remote_delivered) FROM mail_hourly") == 7)
        #expect(try h.count("SELECT COUNT(*) FROM mail_hourly WHERE user = 'UNKNOWN'") == 0)
        // An operator's own view of the table reads the new one.
        #expect(try h.count("SELECT SUM(sent) FROM operator_daily") == 7)
        // Looking for UNKNOWN rows reads the partial index.
        let plan = try db.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT DISTINCT domain FROM mail_hourly WHERE user = 'UNKNOWN' AND domain <> ''")
                .map { $0["detail"] as String }
        }
        #expect(plan.joined().contains("mail_hourly_unknown"), "\(plan)")
    }
}
