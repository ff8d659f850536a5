/// One versioned schema change from `Migrations/<Module>/NNNN_name.sql`.
public struct Migration: Sendable, Equatable {
    public let module: String
    public let version: Int
    public let name: String
    public let sql: String
}

/// All migrations of one module (the engine, or one driver), in version order.
///
/// Why per module: each driver owns its tables (`Migrations/EximStats/…`) and evolves them on its own
/// schedule; the database records the version each module reached.
public struct MigrationSet: Sendable {
    public let module: String
    public let migrations: [Migration]

    /// Builds the set from the files the EmbedMigrations plugin embedded: names are `NNNN_name`.
    public init(module: String, files: [(name: String, sql: String)]) {
        self.module = module
        self.migrations = files.compactMap { file in
            let digits = file.name.prefix { $0.isNumber }
            guard let version = Int(digits), version > 0 else { return nil }
            return Migration(module: module, version: version, name: file.name, sql: file.sql)
        }.sorted { $0.version < $1.version }
        precondition(
            Set(migrations.map(\.version)).count == migrations.count,
            "two migrations of \(module) share a version number")
    }

    public var latestVersion: Int { migrations.last?.version ?? 0 }
}

/// The engine's own tables: checkpoints and per-driver counters.
public let engineMigrations = MigrationSet(module: "TailWatchEngine", files: embeddedMigrationFiles)
