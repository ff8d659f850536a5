import Foundation
import GRDB
import Testing
import TailWatchEngine
import TestSupport

/// The database: migrations, refusal of newer or foreign databases, one writer per checkpoint.
@Suite struct StoreTests {
    @Test func migrationsAreAppliedOnceAndRecorded() throws {
        let folder = TemporaryFolder()
        let path = folder.file("db.sqlite3")
        _ = try Store.openWriter(path: path, modules: [engineMigrations, RecordingDriver.migrations])
        let queue = try Store.openWriter(path: path, modules: [engineMigrations, RecordingDriver.migrations])
        let rows = try queue.read { db in try String.fetchAll(db, sql: "SELECT module || '/' || name FROM tailwatch_migrations ORDER BY module") }
        #expect(rows == ["TailWatchEngine/0001_checkpoints", "TestLines/0001_lines"])
        let mode = try queue.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        let pageSize = try queue.read { db in try Int.fetchOne(db, sql: "PRAGMA page_size") }
        #expect(pageSize == 16384)
    }

    /// A purge frees pages; the file gives them back to the file system without a VACUUM.
    @Test func freePagesGoBackToTheFileSystem() throws {
        let folder = TemporaryFolder()
        let path = folder.file("db.sqlite3")
        let queue = try Store.openWriter(path: path, modules: [engineMigrations, RecordingDriver.migrations])
        try queue.write { db in
            #expect(try Store.supportsIncrementalVacuum(db))
            try db.execute(sql: "CREATE TABLE filler (x BLOB)")
            for _ in 0..<2000 { try db.execute(sql: "INSERT INTO filler VALUES (zeroblob(4000))") }
        }
        try queue.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        let full = Store.sizes(path: path).database
        try queue.write { db in try db.execute(sql: "DELETE FROM filler") }
        var freed = 0
        try queue.write { db in
            #expect(try Int.fetchOne(db, sql: "PRAGMA freelist_count")! > 400)
            freed = try Store.reclaimFreePages(db, maxPages: 100)
        }
        #expect(freed == 100, "bounded: at most maxPages at a time")
        try queue.write { db in freed = try Store.reclaimFreePages(db, maxPages: 100_000) }
        try queue.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        #expect(freed > 300)
        #expect(Store.sizes(path: path).database < full / 4)
    }

    @Test func aDatabaseFromANewerBinaryIsRefusedWithBothVersions() throws {
        let folder = TemporaryFolder()
        let path = folder.file("db.sqlite3")
        let queue = try Store.openWriter(path: path, modules: [engineMigrations])
        try queue.write { db in
            try db.execute(sql: "INSERT INTO tailwatch_migrations VALUES ('TailWatchEngine', 99, '0099_future', 0)")
        }
        #expect {
            _ = try Store.openWriter(path: path, modules: [engineMigrations])
        } throws: { error in
            "\(error)".contains("schema version 99") && "\(error)".contains("knows 1")
        }
    }

    @Test func aForeignDatabaseIsRefusedRatherThanGuessed() throws {
        let folder = TemporaryFolder()
        let path = folder.file("db.sqlite3")
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: "CREATE TABLE something (x)") }
        #expect {
            _ = try Store.openWriter(path: path, modules: [engineMigrations])
        } throws: { error in
            "\(error)".contains("no TailWatch migrations table")
        }
    }

    @Test func twoEnginesOnOneDatabaseCannotBothAdvanceAPosition() throws {
        let h = EngineHarness()
        let log = h.folder.file("app.log")
        try LogWriter.append(log, "one\n")
        let first = try h.makeEngine([.file(log)])
        let second = try h.makeEngine([.file(log)])
        _ = try first.run()
        #expect(throws: StoreError.self) { _ = try second.run() }
        #expect(try h.storedLines() == ["one"])
    }
}
