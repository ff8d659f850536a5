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
        #expect(pageSize == Store.pageSize && Store.pageSize == 32768)
    }

    /// A migration that rebuilds a table (new key: create, copy, drop, rename) keeps the triggers
    /// another module put on it; a trigger a migration drops from a table it leaves alone stays gone.
    @Test func aRebuiltTableKeepsAnotherModulesTriggers() throws {
        let folder = TemporaryFolder()
        let path = folder.file("db.sqlite3")
        let items = "CREATE TABLE items (name TEXT PRIMARY KEY, price INTEGER);"
        let audit = MigrationSet(module: "Audit", files: [("0001_audit", """
            CREATE TABLE audit (name TEXT);
            CREATE TRIGGER audit_items AFTER INSERT ON items BEGIN INSERT INTO audit VALUES (NEW.name); END;
            """)])
        let v1 = MigrationSet(module: "Shop", files: [("0001_items", items)])
        try Store.openWriter(path: path, modules: [engineMigrations, v1, audit]).close()
        let rebuild = """
            CREATE TABLE items_by_price (name TEXT, price INTEGER, PRIMARY KEY (price, name)) WITHOUT ROWID;
            INSERT INTO items_by_price SELECT name, price FROM items;
            DROP TABLE items;
            ALTER TABLE items_by_price RENAME TO items;
            """
        let v2 = MigrationSet(module: "Shop", files: [("0001_items", items), ("0002_by_price", rebuild)])
        let queue = try Store.openWriter(path: path, modules: [engineMigrations, v2, audit])
        try queue.write { db in try db.execute(sql: "INSERT INTO items VALUES ('pear', 3)") }
        #expect(try queue.read { db in try String.fetchAll(db, sql: "SELECT name FROM audit") } == ["pear"])
        try queue.close()

        let v3 = MigrationSet(module: "Shop", files: [("0001_items", items), ("0002_by_price", rebuild), ("0003_quiet", "DROP TRIGGER audit_items;")])
        let quiet = try Store.openWriter(path: path, modules: [engineMigrations, v3, audit])
        try quiet.write { db in try db.execute(sql: "INSERT INTO items VALUES ('plum', 4)") }
        #expect(try quiet.read { db in try String.fetchAll(db, sql: "SELECT name FROM audit") } == ["pear"])
    }

    /// Readers map as much of the file as this SQLite allows (the newest rows are at the end of a
    /// large file): more than the 1 GiB of before wherever the build's limit is higher.
    @Test func readersMapTheWholeFileAsFarAsSQLiteAllows() throws {
        let folder = TemporaryFolder()
        let path = folder.file("db.sqlite3")
        _ = try Store.openWriter(path: path, modules: [engineMigrations])
        let options = try DatabaseQueue().read { db in try String.fetchAll(db, sql: "PRAGMA compile_options") }
        // As the build wrote it: SQLite's own default is the hexadecimal 0x7fff0000.
        let limit = options.first { $0.hasPrefix("MAX_MMAP_SIZE=") }.flatMap { option -> Int64? in
            let value = option.dropFirst("MAX_MMAP_SIZE=".count)
            return value.hasPrefix("0x") ? Int64(value.dropFirst(2), radix: 16) : Int64(value)
        } ?? 0x7fff0000
        let expected = min(Store.mappedBytes, limit)
        let reader = try Store.openReader(path: path, modules: [engineMigrations])
        #expect(try reader.read { db in try Int64.fetchOne(db, sql: "PRAGMA mmap_size") } == expected)
        let pool = try Store.openReaderPool(path: path, modules: [engineMigrations])
        #expect(try pool.read { db in try Int64.fetchOne(db, sql: "PRAGMA mmap_size") } == expected)
        #expect(expected > 1 << 30, "this SQLite maps more than 1 GiB (Debian's: 2 GiB)")
    }

    /// An upgrade (a database with data, a binary with migrations it lacks) copies the database
    /// first, with the backup API; a fresh database is not copied; a failed migration leaves the
    /// database as it was and its message says where the copy is.
    @Test func anUpgradeCopiesTheDatabaseFirstAndAFailedOneChangesNothing() throws {
        let folder = TemporaryFolder()
        let path = folder.file("db.sqlite3")
        let v1 = MigrationSet(module: "Shop", files: [("0001_items", "CREATE TABLE items (name TEXT);")])
        let first = try Store.openWriter(path: path, modules: [engineMigrations, v1])
        #expect(!FileManager.default.fileExists(atPath: path + ".before-upgrade"), "a new database is not an upgrade")
        try first.write { db in try db.execute(sql: "INSERT INTO items VALUES ('kept')") }
        try first.close()

        let v2 = MigrationSet(module: "Shop", files: [
            ("0001_items", "CREATE TABLE items (name TEXT);"), ("0002_price", "ALTER TABLE items ADD COLUMN price INTEGER;"),
        ])
        let second = try Store.openWriter(path: path, modules: [engineMigrations, v2])
        try second.close()
        let copy = try DatabaseQueue(path: path + ".before-upgrade")
        #expect(try copy.read { db in try String.fetchAll(db, sql: "SELECT name FROM items") } == ["kept"])
        #expect(try copy.read { db in try db.columns(in: "items").map(\.name) } == ["name"], "the copy is from before the upgrade")
        try copy.close()

        let broken = MigrationSet(module: "Shop", files: [
            ("0001_items", "CREATE TABLE items (name TEXT);"), ("0002_price", "ALTER TABLE items ADD COLUMN price INTEGER;"),
            ("0003_bad", "ALTER TABLE items ADD COLUMN tax INTEGER; SELECT * FROM no_such_table;"),
        ])
        do {
            _ = try Store.openWriter(path: path, modules: [engineMigrations, broken])
            Issue.record("a failing migration was not reported")
        } catch let error as StoreError {
            #expect("\(error)".contains("migration Shop/0003_bad failed") && "\(error)".contains("the database was left as it was"), "\(error)")
            #expect("\(error)".contains("a copy from before the upgrade is at \(path).before-upgrade"))
        }
        let after = try DatabaseQueue(path: path)
        #expect(try after.read { db in try db.columns(in: "items").map(\.name) } == ["name", "price"], "the failed migration was rolled back whole")
        #expect(try after.read { db in try String.fetchAll(db, sql: "SELECT name FROM items") } == ["kept"])
    }

    /// A purge frees pages; the file gives them back to the file system without a VACUUM.
    @Test func freePagesGoBackToTheFileSystem() throws {
        let folder = TemporaryFolder()
        let path = folder.file("db.sqlite3")
        let queue = try Store.openWriter(path: path, modules: [engineMigrations, RecordingDriver.migrations])
        try queue.write { db in
            #expect(try Store.supportsIncrementalVacuum(db))
            try db.execute(sql: "CREATE TABLE filler (x BLOB)")
            for _ in 0..<4000 { try db.execute(sql: "INSERT INTO filler VALUES (zeroblob(4000))") }  // 16 MB: 500 pages
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
