import Foundation
import GRDB

/// Opens TailWatch's one SQLite file: the single writer (the daemon) and read-only connections
/// (reports, `--status`).
///
/// Why WAL with `synchronous=NORMAL`: readers never block the writer and a commit costs no fsync;
/// a power loss may forget the last commits, but a commit is atomic, and since file positions commit
/// with their effects, forgotten commits are simply read again.
public enum Store {
    /// The page size of a database this version creates: 32 KiB. A million mainlog lines took
    /// 2.37 s with 4 KiB pages and 2.05 s with 16 KiB (stop 25); 32 KiB took 0.93–1.09 s where
    /// 16 KiB took 1.03–1.26 s (stop 34, eight runs of each interleaved), with the same 8 MiB of
    /// page cache. 64 KiB was no faster, and doubles what one row changed costs to write again
    /// (the hourly sums change a row per account each commit). A database created before keeps
    /// its own page size (SQLite fixes it at creation).
    public static let pageSize = 32768

    /// How much of the file a reader maps (`PRAGMA mmap_size`): all of it, as far as SQLite
    /// allows (it lowers the figure to its build's limit, 2 GiB in Debian's). The newest rows are at
    /// the end of the file, and beyond the 1 GiB mapped before, the slowest search copied its
    /// 140 MB of pages in by 4,300 reads (142 → 101 ms on 10 M deliveries). Mapped pages are the
    /// kernel's page cache, shared, though `ps` counts those a report touched in its RSS.
    public static let mappedBytes: Int64 = 1 << 40

    /// Opens (creating if needed) the database for writing and brings every module's schema up to date.
    public static func openWriter(path: String, modules: [MigrationSet]) throws -> DatabaseQueue {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw StoreError.cannotOpen(path: path, reason: "cannot create folder \(folder): \(error.localizedDescription)")
            }
        }
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            // First, so that the pragmas below wait for a writer that holds the lock (a report
            // opening while the daemon commits) instead of failing with "database is locked".
            try db.execute(sql: "PRAGMA busy_timeout = 10000")
            // Large pages (`pageSize`): the tables grow at their end, and larger pages mean fewer
            // splits and writes. Only takes effect on a new file, so it comes before WAL mode.
            try db.execute(sql: "PRAGMA page_size = \(pageSize)")
            // Pages freed by retention purges go back to the file system a few at a time
            // (`reclaimFreePages`) instead of needing a full VACUUM; like page_size, this only
            // takes effect on a new file.
            try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Readers holding snapshots (long reports) let the WAL grow past its checkpoint size;
            // once they let go, a checkpoint cuts it back to this (SQLite keeps it otherwise).
            try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
            // 8 MiB of page cache for the writer (SQLite's default is 2 MiB): measured 11.7 s → 10.8 s
            // for 5 million mainlog lines, peak RSS 48 → 55 MiB.
            try db.execute(sql: "PRAGMA cache_size = -8192")
        }
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: config)
        } catch {
            throw StoreError.cannotOpen(path: path, reason: describe(error))
        }
        let migrator = Migrator(path: path)
        var copy: String?
        if try queue.inDatabase({ db in try migrator.upgradePending(db, modules: modules) }) {
            copy = try copyBeforeUpgrade(queue, path: path)
        }
        do {
            try queue.inDatabase { db in try migrator.migrate(db, modules: modules) }
        } catch StoreError.migrationFailed(let path, let migration, let reason, _) {
            throw StoreError.migrationFailed(path: path, migration: migration, reason: reason, copy: copy)
        }
        return queue
    }

    /// Before a schema upgrade: a consistent copy of the whole database with SQLite's backup API
    /// (never a `cp` of a live file), at `PATH.before-upgrade`, replacing the one an earlier
    /// upgrade left. The migrations run in one transaction and roll back whole on a failure, so
    /// the copy is for what no transaction protects against: a new version whose migration
    /// succeeded and whose data the operator does not want to keep.
    static func copyBeforeUpgrade(_ queue: DatabaseQueue, path: String) throws -> String {
        let copy = path + ".before-upgrade"
        let partial = copy + ".partial"
        do {
            try? FileManager.default.removeItem(atPath: partial)
            let destination = try DatabaseQueue(path: partial)
            try queue.backup(to: destination)
            try destination.close()
            if FileManager.default.fileExists(atPath: copy) { try FileManager.default.removeItem(atPath: copy) }
            try FileManager.default.moveItem(atPath: partial, toPath: copy)
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw StoreError.upgradeCopyFailed(path: path, copy: copy, reason: describe(error))
        }
        return copy
    }

    /// Records a schema change made at run time as the next migration of `module` (e.g. a custom
    /// driver's tables, generated from its definition) and runs its statements. The caller holds
    /// the write transaction, so the change and its record commit together or not at all.
    /// Returns the version it was recorded as.
    @discardableResult
    public static func applyGeneratedMigration(_ db: Database, module: String, name: String, statements: [String]) throws -> Int {
        precondition(db.isInsideTransaction, "a generated migration runs inside the caller's transaction")
        let current = try migrationVersion(db, module: module)
        for sql in statements { try db.execute(sql: sql) }
        let version = current + 1
        try db.execute(
            sql: "INSERT INTO tailwatch_migrations (module, version, name, applied_at) VALUES (?, ?, ?, ?)",
            arguments: [module, version, String(String(version + 10000).dropFirst()) + "_" + name, Int(Date().timeIntervalSince1970)])
        return version
    }

    /// The version `module` reached, 0 when it has none.
    public static func migrationVersion(_ db: Database, module: String) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT MAX(version) FROM tailwatch_migrations WHERE module = ?", arguments: [module]) ?? 0
    }

    /// Gives up to `maxPages` free pages back to the file system (incremental vacuum), so the file
    /// shrinks after a purge without the long exclusive lock of a VACUUM. Returns the pages freed;
    /// 0 on a database created without incremental vacuum (see `supportsIncrementalVacuum`).
    @discardableResult
    public static func reclaimFreePages(_ db: Database, maxPages: Int) throws -> Int {
        let free = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
        guard free > 0, try supportsIncrementalVacuum(db) else { return 0 }
        try db.execute(sql: "PRAGMA incremental_vacuum(\(min(free, maxPages)))")
        return free - (try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0)
    }

    public static func supportsIncrementalVacuum(_ db: Database) throws -> Bool {
        try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") == 2
    }

    /// The database file and its WAL, in bytes.
    public static func sizes(path: String) -> (database: Int64, wal: Int64) {
        func size(_ p: String) -> Int64 { (try? FileManager.default.attributesOfItem(atPath: p)[.size] as? Int64) ?? 0 }
        return (size(path), size(path + "-wal"))
    }

    /// Opens an existing database read-only, refusing one whose schema is newer than this binary.
    /// `requiring`: modules whose tables the caller reads (an error names the missing upgrade).
    public static func openReader(path: String, modules: [MigrationSet], requiring: [String] = []) throws -> DatabaseQueue {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError.cannotOpen(path: path, reason: "no such file (has tailwatchd run yet? check 'database' in the config)")
        }
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(10)
        // Reports read large ranges (a search reads every block's filters): pages mapped, not
        // copied in by a read(2) each (`mappedBytes`).
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA mmap_size = \(mappedBytes)") }
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: config)
        } catch {
            throw StoreError.cannotOpen(path: path, reason: describe(error))
        }
        try queue.inDatabase { db in try Migrator(path: path).check(db, modules: modules, requiring: requiring) }
        return queue
    }

    /// Several read-only connections at once (the daemon's web pages: one slow page must not queue
    /// the others behind it). The database is in WAL mode, so they read beside the engine's writer
    /// without ever taking its lock.
    public static func openReaderPool(path: String, modules: [MigrationSet], readers: Int = 4) throws -> DatabasePool {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(10)
        config.maximumReaderCount = readers
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA mmap_size = \(mappedBytes)") }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw StoreError.cannotOpen(path: path, reason: describe(error))
        }
        try pool.read { db in try Migrator(path: path).check(db, modules: modules, requiring: []) }
        return pool
    }

    static func describe(_ error: any Error) -> String {
        if let db = error as? DatabaseError { return db.message ?? "\(db.resultCode)" }
        return "\(error)"
    }
}
