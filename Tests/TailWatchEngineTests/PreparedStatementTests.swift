import GRDB
import Testing
import TailWatchEngine
import TestSupport

/// `bind(_:remembered:)` skips binding a parameter that holds the value already; whatever bound it
/// last (a plain bind, text, NULL), the row stored is the one asked for.
@Suite struct PreparedStatementTests {
    @Test func rememberedBindsStoreExactlyWhatWasAskedFor() throws {
        let folder = try TemporaryFolder("prepared")
        let queue = try DatabaseQueue(path: folder.file("t.sqlite3"))
        try queue.write { db in try db.execute(sql: "CREATE TABLE t (n INTEGER PRIMARY KEY, a, b)") }
        let asked: [(Int64?, String?)] = try queue.write { db in
            let s = try PreparedStatement(db, sql: "INSERT INTO t (n, a, b) VALUES (?, ?, ?)")
            var asked: [(Int64?, String?)] = []
            func run(_ n: Int64, _ bind: (PreparedStatement) -> Void, _ a: Int64?, _ b: String? = nil) throws {
                s.bind(1, n)
                bind(s)
                if let b { try withByteLine(b) { s.bind(3, $0); try s.run() } } else { s.bind(3, rememberedText: nil); try s.run() }
                asked.append((a, b))
            }
            try run(1, { $0.bind(2, remembered: 5) }, 5)
            try run(2, { $0.bind(2, remembered: 5) }, 5)              // skipped: still 5
            try run(3, { $0.bind(2, 7) }, 7, "x")                      // a plain bind in between
            try run(4, { $0.bind(2, remembered: 5) }, 5)              // 5 again, not the 7 left there
            try run(5, { $0.bind(2, remembered: nil) }, nil, "y")
            try run(6, { $0.bind(2, remembered: nil) }, nil)          // skipped: still NULL; b back to NULL
            try run(7, { s in withByteLine("text") { s.bind(2, $0) }; s.bind(2, remembered: 5) }, 5)
            try run(8, { $0.bindNull(2); $0.bind(2, remembered: nil) }, nil)
            try run(9, { $0.bind(2, remembered: 9) }, 9)
            return asked
        }
        let stored = try queue.read { db in try Row.fetchAll(db, sql: "SELECT a, b FROM t ORDER BY n") }
        #expect(stored.count == asked.count)
        for (row, want) in zip(stored, asked) {
            #expect(row["a"] as Int64? == want.0)
            #expect(row["b"] as String? == want.1)
        }
    }
}
