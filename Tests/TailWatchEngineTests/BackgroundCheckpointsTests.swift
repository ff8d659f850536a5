import Foundation
import GRDB
import Logging
import Testing
import TailWatchEngine
import TestSupport

/// The writer's checkpoints, taken over by a thread of their own: pages reach the database file
/// without the writer checkpointing, the WAL stays bounded while the writer never pauses, and the
/// writer gets SQLite's own checkpoints back afterwards.
@Suite struct BackgroundCheckpointsTests {
    static let page = Store.pageSize

    /// A writer with a table of one-page rows.
    static func writer(_ folder: TemporaryFolder) throws -> (DatabaseQueue, String) {
        let path = folder.file("db.sqlite3")
        let queue = try Store.openWriter(path: path, modules: [engineMigrations])
        try queue.write { db in try db.execute(sql: "CREATE TABLE pages (id INTEGER PRIMARY KEY, body BLOB NOT NULL)") }
        return (queue, path)
    }

    /// `count` transactions of one row of a page's size each (every commit adds a few frames).
    static func commit(_ db: Database, _ count: Int, from first: Int) throws {
        for i in first..<(first + count) {
            try db.inTransaction {
                try db.execute(sql: "INSERT INTO pages (id, body) VALUES (?, zeroblob(?))", arguments: [i, page - 200])
                return .commit
            }
        }
    }

    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    @Test func pagesReachTheDatabaseFileWhileTheWriterOnlyCommits() throws {
        let folder = TemporaryFolder()
        let (queue, path) = try Self.writer(folder)
        try queue.inDatabase { db in
            let before = Self.size(path)
            // The limit is out of reach: only the thread checkpoints.
            let checkpoints = try BackgroundCheckpoints(writer: db, path: path, logger: Logger(label: "test"), threshold: 20, limit: 1_000_000)
            try Self.commit(db, 40, from: 0)
            let grew = eventually(timeout: 10) { Self.size(path) >= before + 30 * Self.page }
            #expect(grew, "the database file grows by the committed pages: \(before) → \(Self.size(path))")
            checkpoints.stop()
        }
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM pages") } == 40)
    }

    @Test func theWALStaysBoundedWhenTheWriterNeverPauses() throws {
        let folder = TemporaryFolder()
        let (queue, path) = try Self.writer(folder)
        var largest = 0
        try queue.inDatabase { db in
            let checkpoints = try BackgroundCheckpoints(writer: db, path: path, logger: Logger(label: "test"), threshold: 10, limit: 60)
            for round in 0..<30 {
                try Self.commit(db, 10, from: round * 10)
                largest = max(largest, Self.size(path + "-wal"))
            }
            checkpoints.stop()
        }
        // Past the limit the writer checkpoints itself and the WAL starts over: a few commits past
        // 60 frames at most, where 300 pages were written in all.
        #expect(largest > 0 && largest < 120 * (Self.page + 24), "largest WAL: \(largest) bytes")
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM pages") } == 300)
        #expect(try queue.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") } == "ok")
    }

    @Test func afterStopTheWriterCheckpointsAsSQLiteDoes() throws {
        let folder = TemporaryFolder()
        let (queue, path) = try Self.writer(folder)
        try queue.inDatabase { db in
            let checkpoints = try BackgroundCheckpoints(writer: db, path: path, logger: Logger(label: "test"), threshold: 10, limit: 1_000_000)
            checkpoints.stop()
            let before = Self.size(path)
            // SQLite's own automatic checkpoint (at its default, 1,000 frames) runs in the commit that crosses it.
            try Self.commit(db, 1100, from: 0)
            #expect(Self.size(path) >= before + 900 * Self.page)
        }
    }
}
