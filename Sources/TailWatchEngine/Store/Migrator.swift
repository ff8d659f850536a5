import Foundation
import GRDB

/// Applies `Migrations/<Module>/NNNN_name.sql` in order, each with its record in
/// `tailwatch_migrations`, all in one transaction (see `migrate`), and refuses a database written
/// by a newer binary. Triggers on a table a migration rebuilds are kept (`KeptTriggers`).
///
/// Why not GRDB's `DatabaseMigrator`: the SQL files are the schema's single source and each module
/// versions its own tables; the refusal message must name the module and both versions.
struct Migrator {
    let path: String

    static let bookkeeping = """
        CREATE TABLE IF NOT EXISTS tailwatch_migrations (
            module     TEXT    NOT NULL,
            version    INTEGER NOT NULL,
            name       TEXT    NOT NULL,
            applied_at INTEGER NOT NULL,
            PRIMARY KEY (module, version)
        )
        """

    /// Versions already applied, per module; nil when the bookkeeping table is missing.
    func appliedVersions(_ db: Database) throws -> [String: Int]? {
        // Asked of SQLite each time, not of GRDB's schema cache: another process may have created
        // the table since this connection last looked (two processes opening a new database).
        guard try Bool.fetchOne(db, sql: "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'tailwatch_migrations'") == true
        else { return nil }
        var result: [String: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT module, MAX(version) AS v FROM tailwatch_migrations GROUP BY module") {
            result[row["module"]] = row["v"]
        }
        return result
    }

    /// For readers: the database is TailWatch's, not newer than this binary, and holds the whole
    /// schema of each module in `requiring`.
    func check(_ db: Database, modules: [MigrationSet], requiring: [String] = []) throws {
        guard let applied = try appliedVersions(db) else {
            throw StoreError.notATailWatchDatabase(path: path)
        }
        try refuseNewer(applied, modules: modules)
        for set in modules where requiring.contains(set.module) {
            let version = applied[set.module] ?? 0
            if version < set.latestVersion {
                throw StoreError.olderSchema(path: path, module: set.module, databaseVersion: version, binaryVersion: set.latestVersion)
            }
        }
    }

    private func refuseNewer(_ applied: [String: Int], modules: [MigrationSet]) throws {
        for set in modules {
            if let version = applied[set.module], version > set.latestVersion {
                throw StoreError.newerSchema(path: path, module: set.module, databaseVersion: version, binaryVersion: set.latestVersion)
            }
        }
    }

    /// Whether the database already holds TailWatch data and this binary has migrations it lacks:
    /// an upgrade, which `Store.openWriter` copies the database before.
    func upgradePending(_ db: Database, modules: [MigrationSet]) throws -> Bool {
        guard let applied = try appliedVersions(db), !applied.isEmpty else { return false }
        try refuseNewer(applied, modules: modules)
        return modules.contains { set in set.latestVersion > (applied[set.module] ?? 0) }
    }

    /// All of it in one `BEGIN IMMEDIATE` transaction: two processes opening a new database at the
    /// same moment (the daemon and a report, a test and its daemon) take turns, and the second
    /// sees the first one's work instead of creating the same tables again.
    func migrate(_ db: Database, modules: [MigrationSet]) throws {
        var failed: (String, any Error)?
        try db.inTransaction(.immediate) {
            var applied = try appliedVersions(db)
            if applied == nil {
                let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                guard tables.isEmpty else { throw StoreError.notATailWatchDatabase(path: path) }
                try db.execute(sql: Self.bookkeeping)
                applied = [:]
            }
            try refuseNewer(applied!, modules: modules)
            for set in modules {
                let current = applied![set.module] ?? 0
                for migration in set.migrations where migration.version > current {
                    do {
                        let triggers = try KeptTriggers(db)
                        try db.execute(sql: migration.sql)
                        try triggers.restore(db)
                        try db.execute(
                            sql: "INSERT INTO tailwatch_migrations (module, version, name, applied_at) VALUES (?, ?, ?, ?)",
                            arguments: [set.module, migration.version, migration.name, Int(Date().timeIntervalSince1970)])
                    } catch {
                        failed = ("\(set.module)/\(migration.name)", error)
                        return .rollback
                    }
                }
            }
            return .commit
        }
        if let (migration, error) = failed {
            throw StoreError.migrationFailed(path: path, migration: migration, reason: Store.describe(error))
        }
    }
}
