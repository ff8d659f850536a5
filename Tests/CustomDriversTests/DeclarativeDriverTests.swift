import Foundation
import GRDB
import Testing
import TailWatchEngine
import TestSupport
@testable import CustomDrivers

/// Declarative drivers through the real engine over real files: the examples' figures, types,
/// exactly-once, hostile patterns and lines, and schema changes.
@Suite struct DeclarativeDriverTests {
    static let sshd = """
        [input]
        files = ["auth.log"]
        contains = "Failed password for "
        regex = '^(?<time>\\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d) \\S+ sshd\\[\\d+\\]: Failed password for (?:invalid user )?(?<user>.*) from (?<ip>[0-9A-Fa-f:.]+) port (?<port>\\d+) ssh2$'
        [columns]
        time = "timestamp syslog"
        user = "text"
        ip = "ip"
        port = "integer"
        [counter]
        by = ["ip"]
        bucket_minutes = 5
        [store]
        lines = true
        """

    static func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
    }

    @Test func sshdFailuresPerAddressFromAnAuthLog() throws {
        let h = try CustomHarness()
        try LogWriter.copy(Self.fixture("auth.log"), h.folder.file("drivers.d/auth.log"))
        try h.define("sshd", Self.sshd)
        try h.runOnce("sshd")
        #expect(try h.count("SELECT COUNT(*) FROM custom_sshd") == 7)
        let perIP = try h.report("sshd")
        let table = Dictionary(uniqueKeysWithValues: perIP.rows.map { row -> (String, Int64) in
            guard case .text(let ip) = row[0], case .integer(let n) = row[1] else { return ("?", -1) }
            return (ip, n)
        })
        #expect(table == ["203.0.113.7": 4, "198.51.100.23": 1, "2001:db8::66": 1, "203.0.113.9": 1])
        // A user name holding "from 192.0.2.99 port 22" cannot move the address.
        #expect(try h.rows("SELECT user, ip, port FROM custom_sshd WHERE ip = '203.0.113.9'") == [["\"ad min from 192.0.2.99 port 22\"", "203.0.113.9", "41010"]])
        #expect(try h.count("SELECT COUNT(*) FROM custom_sshd WHERE ip = '192.0.2.99'") == 0)
        // Syslog time: 28 Nov 09:14:02 of the year that puts it just before now.
        let at = try h.count("SELECT MIN(at) FROM custom_sshd")
        #expect(at % 86400 == 9 * 3600 + 14 * 60 + 2)
        // Buckets are 5 minutes: the three 09:14 failures and the 09:21 one are two buckets.
        #expect(try h.count("SELECT COUNT(*) FROM custom_sshd_counts WHERE ip = '203.0.113.7'") == 2)
        #expect(try h.count("SELECT MIN(bucket) % 300 FROM custom_sshd_counts") == 0)
    }

    @Test func exactlyOnceAcrossRunsAndAppends() throws {
        let h = try CustomHarness()
        let log = h.folder.file("drivers.d/auth.log")
        try LogWriter.copy(Self.fixture("auth.log"), log)
        try h.define("sshd", Self.sshd)
        try h.runOnce("sshd")
        try h.runOnce("sshd")
        #expect(try h.count("SELECT SUM(count) FROM custom_sshd_counts") == 7)
        try LogWriter.append(log, "Nov 28 10:00:00 web1 sshd[1]: Failed password for root from 203.0.113.7 port 1 ssh2\nNov 28 10:00:01 web1 sshd[1]: Failed password for root from 203.0.1")
        try h.runOnce("sshd")
        #expect(try h.count("SELECT SUM(count) FROM custom_sshd_counts") == 8)
        try LogWriter.append(log, "13.7 port 2 ssh2\n")
        try h.runOnce("sshd")
        #expect(try h.count("SELECT SUM(count) FROM custom_sshd_counts WHERE ip = '203.0.113.7'") == 6)
        #expect(try h.count("SELECT COUNT(*) FROM custom_sshd") == 9)
    }

    /// `(a+)+$` against a run of a's that ends otherwise backtracks exponentially; the match limit
    /// ends it: the line is rejected with its reason, and the lines after it are still read.
    /// `keep_days`: the engine purges old lines and counter buckets (in slices), recent ones stay.
    @Test func linesAndBucketsOlderThanKeepDaysArePurged() throws {
        let h = try CustomHarness()
        let log = h.folder.file("drivers.d/auth.log")
        try LogWriter.append(log, "")
        try h.define("sshd", Self.sshd.replacingOccurrences(of: "[store]\nlines = true", with: "[store]\nlines = true\nkeep_days = 3"))
        try h.runOnce("sshd")
        let now = Int64(Date().timeIntervalSince1970)
        try h.harness.database().write { db in
            for (age, n) in [(10 * 86400, 3), (3600, 2)] {
                let at = now - Int64(age)
                for i in 0..<n {
                    try db.execute(sql: "INSERT INTO custom_sshd (at, source, time, user, ip, port) VALUES (?, 1, ?, 'u', '203.0.113.\(i)', 22)", arguments: [at, at])
                    try db.execute(sql: "INSERT INTO custom_sshd_counts (ip, bucket, count) VALUES ('203.0.113.\(i)', ?, 1)", arguments: [at - at % 300])
                }
            }
        }
        try h.runOnce("sshd")
        #expect(try h.count("SELECT COUNT(*) FROM custom_sshd") == 2)
        #expect(try h.count("SELECT COUNT(*) FROM custom_sshd_counts") == 2)
        #expect(try h.count("SELECT MIN(at) FROM custom_sshd") >= Int(now) - 3600)
    }

    @Test func aCatastrophicPatternIsStoppedByTheMatchLimit() throws {
        let regex = try LineRegex("(a+)+$", matchLimit: 100_000)
        let hostile = String(repeating: "a", count: 40) + "!"
        let outcome = withByteLine(hostile) { regex.match($0) }
        guard case .limitExceeded = outcome else {
            Issue.record("expected the match limit, got \(outcome)")
            return
        }

        let h = try CustomHarness()
        try h.define("runs", """
            [input]
            files = ["runs.log"]
            regex = '^(?<run>(a+)+)$'
            match_limit = 100000
            [columns]
            run = "text"
            """)
        try LogWriter.append(h.folder.file("drivers.d/runs.log"), "aaa\n\(hostile)\n\(hostile)\naaaa\n")
        try h.runOnce("runs")
        #expect(try h.rows("SELECT run FROM custom_runs ORDER BY id") == [["aaa"], ["aaaa"]])
        #expect(try h.count("SELECT count FROM rejected_lines WHERE driver = 'runs' AND reason LIKE '%match limit%'") == 2)
    }

    /// Values that do not fit their column reject the line (counted by reason); NULs, invalid
    /// UTF-8 and CRLF do not stop the file.
    @Test func badValuesAndBadBytesAreRejectedAndTheRestIsRead() throws {
        let h = try CustomHarness()
        try h.define("typed", """
            [input]
            files = ["typed.log"]
            split = " "
            fields = ["host", "when", "size"]
            [columns]
            host = "text"
            when = "timestamp epoch"
            size = "integer"
            [counter]
            by = ["host"]
            bucket_minutes = 60
            sum = "size"
            """)
        var bytes = Array("a.example 1764493200 100\nb.example notatime 5\nb.example 1764493201 lots\n".utf8)
        bytes += [0x62, 0x2E, 0x65, 0x78, 0x00, 0x20, 0x31, 0x0A]        // a NUL
        bytes += Array("caf".utf8) + [0xC3, 0x28] + Array(" 1764493202 7\r\n".utf8) // invalid UTF-8, CRLF
        bytes += Array("a.example 1764493260.5 -\na.example 1764496800 -20\n".utf8)
        try LogWriter.append(h.folder.file("drivers.d/typed.log"), bytes)
        try h.runOnce("typed")
        let counts = try h.rows("SELECT host, bucket, count, sum FROM custom_typed_counts ORDER BY host, bucket")
        #expect(counts == [
            ["a.example", "1764493200", "2", "100"],
            ["a.example", "1764496800", "1", "-20"],
            ["caf\u{FFFD}(", "1764493200", "1", "7"],
        ], "\(counts)")
        let reasons = try h.rows("SELECT reason, count FROM rejected_lines WHERE driver = 'typed' ORDER BY reason")
        #expect(reasons == [["NUL byte in line", "1"], ["column 'size' is not a valid integer", "1"], ["column 'when' is not a valid timestamp epoch", "1"]], "\(reasons)")
    }

    /// The HTTP 5xx example over the shared corpus's real access log (3 lines with status 500,
    /// per its README) and over our own vhost log with a hostile user agent.
    @Test func http5xxPerVhostIgnoresWhatTheUserAgentSays() throws {
        let h = try CustomHarness()
        let example = try String(contentsOfFile: CustomHarness.examples + "/drivers.d/http_5xx.toml", encoding: .utf8)
        try LogWriter.copy(CustomHarness.examples + "/logs/access_log", h.folder.file("drivers.d/access_log"))
        try h.define("http_5xx", example.replacingOccurrences(of: "../logs/access_log", with: "access_log"))
        try h.runOnce("http_5xx")
        let rows = try h.rows("SELECT vhost, status, SUM(count), SUM(sum) FROM custom_http_5xx_counts GROUP BY 1, 2 ORDER BY 1, 2")
        #expect(rows == [["bobsbikes.example", "500", "2", "1224"], ["www.carolcakes.example", "502", "1", "166"], ["www.carolcakes.example", "503", "1", "166"]])

        if let corpus = Corpus.file("access/semicomplete.com-2015-05.log") {
            let h2 = try CustomHarness()
            try h2.define("errors", """
                [input]
                files = ["\(corpus)"]
                contains = "\\" 5"
                regex = '^\\S+ \\S+ \\S+ \\[(?<time>[^\\]]+)\\] "(?:[^"\\\\]|\\\\.)*" (?<status>5\\d\\d) '
                [columns]
                time = "timestamp clf"
                status = "integer"
                [counter]
                by = ["status"]
                bucket_minutes = 1440
                """)
            try h2.runOnce("errors")
            #expect(try h2.count("SELECT SUM(count) FROM custom_errors_counts WHERE status = 500") == 3)
            #expect(try h2.count("SELECT COUNT(*) FROM rejected_lines WHERE driver = 'errors'") == 0)
        }
    }

    /// A changed definition is a new migration: a new column is added (old rows keep theirs), a
    /// change of the counter's keys keeps the old counts in an archived table; nothing is dropped.
    @Test func aChangedDefinitionMigratesWithoutDroppingData() throws {
        let h = try CustomHarness()
        let log = h.folder.file("drivers.d/app.log")
        try h.define("app", """
            [input]
            files = ["app.log"]
            split = "whitespace"
            fields = ["user", "action"]
            [columns]
            user = "text"
            action = "text"
            [counter]
            by = ["user"]
            [store]
            lines = true
            """)
        try LogWriter.append(log, "bob login\ncarol login\n")
        try h.runOnce("app")
        try h.define("app", """
            [input]
            files = ["app.log"]
            split = "whitespace"
            fields = ["user", "action", "ms"]
            [columns]
            user = "text"
            action = "text"
            ms = "integer"
            [counter]
            by = ["user", "action"]
            [store]
            lines = true
            """)
        try LogWriter.append(log, "bob logout 12\n")
        try h.runOnce("app")
        #expect(try h.rows("SELECT user, action, ms FROM custom_app ORDER BY id") == [["bob", "login", "NULL"], ["carol", "login", "NULL"], ["bob", "logout", "12"]])
        #expect(try h.rows("SELECT user, count FROM custom_app_counts_v2 ORDER BY user") == [["bob", "1"], ["carol", "1"]])
        #expect(try h.rows("SELECT user, action, count FROM custom_app_counts") == [["bob", "logout", "1"]])
        let migrations = try h.rows("SELECT version, name FROM tailwatch_migrations WHERE module = 'custom.app' ORDER BY version")
        #expect(migrations.count == 2)
        #expect(migrations.last?[1].contains("archive") == true && migrations.last?[1].contains("add_ms") == true, "\(migrations)")
        // The same definition again changes nothing.
        try h.runOnce("app")
        #expect(try h.count("SELECT COUNT(*) FROM tailwatch_migrations WHERE module = 'custom.app'") == 2)
    }

    /// A counter that sums another column (or none) cannot keep adding to the old sums: the old
    /// table is archived. A file named twice (in `files` and by the folder's pattern) is read once.
    @Test func aChangedSumArchivesAndAPathNamedTwiceIsReadOnce() throws {
        let h = try CustomHarness()
        let log = h.folder.file("drivers.d/app.log")
        func define(sum: String) throws {
            try h.define("app", """
                [input]
                files = ["app.log"]
                folder = "."
                pattern = "app.log"
                split = " "
                fields = ["user", "a", "b"]
                [columns]
                user = "text"
                a = "integer"
                b = "integer"
                [counter]
                by = ["user"]
                sum = "\(sum)"
                """)
        }
        try define(sum: "a")
        try LogWriter.append(log, "bob 1 100\n")
        try h.runOnce("app")
        #expect(try h.rows("SELECT user, count, sum FROM custom_app_counts") == [["bob", "1", "1"]])
        try define(sum: "b")
        try LogWriter.append(log, "bob 2 200\n")
        try h.runOnce("app")
        #expect(try h.rows("SELECT user, count, sum FROM custom_app_counts_v2") == [["bob", "1", "1"]])
        #expect(try h.rows("SELECT user, count, sum FROM custom_app_counts") == [["bob", "1", "200"]])
        #expect(try h.count("SELECT COUNT(*) FROM checkpoints WHERE driver = 'app'") == 1)
    }

    @Test func reportsGroupByAnyColumnAndPeriod() throws {
        let h = try CustomHarness()
        try LogWriter.copy(Self.fixture("auth.log"), h.folder.file("drivers.d/auth.log"))
        try h.define("sshd", Self.sshd)
        try h.runOnce("sshd")
        // 'user' is not a counter key: grouped from the stored lines.
        let byUser = try h.report("sshd", by: ["user"])
        #expect(byUser.columns == ["user", "count"])
        #expect(byUser.rows.first == [.text("root"), .integer(2)])
        let byHour = try h.report("sshd", by: ["ip", "hour"])
        #expect(byHour.columns == ["ip", "period", "count"])
        #expect(byHour.rows.first?[2] == .integer(4))
        let lines = try h.report("sshd", lines: true)
        #expect(lines.columns == ["at", "source", "time", "user", "ip", "port"])
        #expect(lines.rows.count == 7)
        #expect(throws: CustomReport.RequestError.self) { try h.report("sshd", by: ["nosuch"]) }
        #expect(throws: CustomReport.RequestError.self) { try h.report("x\"; DROP TABLE checkpoints; --") }
        #expect(try h.count("SELECT COUNT(*) FROM checkpoints") == 1)
    }
}
