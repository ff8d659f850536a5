/// The fleet database's schema, from `Migrations/FleetStore/NNNN_name.sql` (PostgreSQL), applied
/// by whichever shipper connects first after an upgrade.
///
/// Why like the SQLite migrations: the same versioned files, one transaction for all pending ones,
/// and a refusal to touch a schema made by a newer TailWatch (an older server in a fleet being
/// upgraded keeps shipping only once its binary knows the schema). An advisory lock makes two
/// servers that connect at the same moment take turns.
public enum FleetSchema {
    public static let migrations: [(version: Int, name: String, sql: String)] = embeddedMigrationFiles.compactMap { file in
        guard let version = Int(file.name.prefix { $0.isNumber }), version > 0 else { return nil }
        return (version, file.name, file.sql)
    }.sorted { $0.version < $1.version }

    public static var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Brings the schema up to date; returns the version it is at.
    @discardableResult
    public static func migrate(_ connection: PostgresConnection) throws(PostgresError) -> Int {
        try connection.transaction { () throws(PostgresError) -> Int in
            // 0x7461696c = "tail": one lock id for every TailWatch shipper.
            try connection.query("SELECT pg_advisory_xact_lock(1952540012)")
            try connection.execute("""
                CREATE TABLE IF NOT EXISTS tailwatch_fleet_schema (
                    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)
                """)
            let current = Int(try connection.scalar("SELECT COALESCE(MAX(version), 0) FROM tailwatch_fleet_schema") ?? "0") ?? 0
            guard current <= latestVersion else { throw .newerSchema(database: current, binary: latestVersion) }
            for migration in migrations where migration.version > current {
                try connection.execute(migration.sql)
                try connection.query(
                    "INSERT INTO tailwatch_fleet_schema (version, name, applied_at) VALUES ($1, $2, EXTRACT(EPOCH FROM now())::BIGINT)",
                    [String(migration.version), migration.name])
            }
            return max(current, latestVersion)
        }
    }

    /// The version the database is at, without changing it (reports): 0 when it has none.
    public static func version(_ connection: PostgresConnection) throws(PostgresError) -> Int {
        guard try connection.scalar("SELECT to_regclass('tailwatch_fleet_schema') IS NOT NULL") == "t" else { return 0 }
        return Int(try connection.scalar("SELECT COALESCE(MAX(version), 0) FROM tailwatch_fleet_schema") ?? "0") ?? 0
    }
}
