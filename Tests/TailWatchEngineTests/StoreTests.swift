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
