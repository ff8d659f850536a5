import TailWatchEngine

extension MigrationSet {
    /// The module's migrations up to `version` only: a database as an older release left it, for
    /// the tests of an upgrade.
    public func upTo(_ version: Int) -> MigrationSet {
        MigrationSet(module: module, files: migrations.filter { $0.version <= version }.map { (name: $0.name, sql: $0.sql) })
    }
}
