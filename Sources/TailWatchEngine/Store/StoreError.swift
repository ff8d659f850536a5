/// Why the database could not be used, phrased for the operator who has to fix it.
public enum StoreError: Error, CustomStringConvertible, Sendable {
    case cannotOpen(path: String, reason: String)
    case newerSchema(path: String, module: String, databaseVersion: Int, binaryVersion: Int)
    case notATailWatchDatabase(path: String)
    /// A reader needs tables that the daemon has not created yet (an upgrade not yet started).
    case olderSchema(path: String, module: String, databaseVersion: Int, binaryVersion: Int)
    /// The migrations were rolled back: the database is as it was. `copy`: the copy taken before
    /// the upgrade began, if one was.
    case migrationFailed(path: String, migration: String, reason: String, copy: String? = nil)
    /// The copy before an upgrade could not be made, so the upgrade was not started.
    case upgradeCopyFailed(path: String, copy: String, reason: String)
    case sqlite(code: Int32, message: String, sql: String)
    /// Another process moved a checkpoint this process believed it owned.
    case checkpointMoved(driver: String, path: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            "cannot open database \(path): \(reason)"
        case .newerSchema(let path, let module, let db, let bin):
            "database \(path) was written by a newer TailWatch (\(module) schema version \(db), this binary knows \(bin)); upgrade tailwatchd or point 'database' at another file"
        case .olderSchema(let path, let module, let db, let bin):
            "database \(path) does not have \(module)'s tables yet (schema version \(db) of \(bin)); start tailwatchd, or run 'tailwatchd --once', to upgrade it"
        case .notATailWatchDatabase(let path):
            "database \(path) has tables but no TailWatch migrations table; refusing to guess its state (move it away to start afresh)"
        case .migrationFailed(let path, let migration, let reason, let copy):
            "database \(path): migration \(migration) failed: \(reason); the database was left as it was"
                + (copy.map { " (a copy from before the upgrade is at \($0))" } ?? "")
        case .upgradeCopyFailed(let path, let copy, let reason):
            "database \(path): cannot copy it to \(copy) before upgrading its schema: \(reason); nothing was changed (free some space, or move the database)"
        case .sqlite(let code, let message, let sql):
            "SQLite error \(code): \(message) (in: \(sql.prefix(80)))"
        case .checkpointMoved(let driver, let path):
            "the saved position of \(path) for \(driver) was changed by another process; is a second tailwatchd running on the same database?"
        }
    }
}
