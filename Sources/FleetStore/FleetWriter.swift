/// Writes one server's rows into the fleet database: registration, then batches of upserts.
///
/// Why this is exactly once: every row carries its absolute value and its version (the server's
/// outbox sequence), and an upsert replaces a row only with a newer version. Sending a batch again
/// — after a lost connection, a PostgreSQL restart, or a crash of the daemon between PostgreSQL's
/// commit and its own — writes the same values again, so nothing is ever counted twice, and the
/// server deletes a row from its outbox only after the commit, so nothing is lost.
public struct FleetWriter {
    public let connection: PostgresConnection
    public let host: String

    public init(connection: PostgresConnection, host: String) {
        self.connection = connection
        self.host = host
    }

    /// The database this host name is registered with, if any.
    public func registeredDatabase() throws(PostgresError) -> String? {
        try connection.scalar("SELECT database_id FROM fleet_hosts WHERE host = $1", [host])
    }

    /// Registers this host name as shipped by `databaseID`, forgetting every row it had under
    /// another database (a rebuilt SQLite file ships its whole content again, so the fleet
    /// mirrors the file that is the source of truth now), and every row this database shipped
    /// under another name (a renamed server is not counted twice). Returns whether rows were reset.
    @discardableResult
    public func register(databaseID: String) throws(PostgresError) -> Bool {
        try connection.transaction { () throws(PostgresError) -> Bool in
            let current = try connection.scalar("SELECT database_id FROM fleet_hosts WHERE host = $1 FOR UPDATE", [host])
            guard current != databaseID else { return false }
            let formerNames = try connection.query("SELECT host FROM fleet_hosts WHERE database_id = $1 AND host <> $2 FOR UPDATE", [databaseID, host])
                .compactMap { $0.first ?? nil }
            for name in [host] + formerNames { try forget(name) }
            try connection.query("DELETE FROM fleet_hosts WHERE database_id = $1 AND host <> $2", [databaseID, host])
            try connection.query("""
                INSERT INTO fleet_hosts (host, database_id, registered_at) VALUES ($1, $2, EXTRACT(EPOCH FROM now())::BIGINT)
                ON CONFLICT (host) DO UPDATE SET database_id = EXCLUDED.database_id, registered_at = EXCLUDED.registered_at, shipped_at = NULL
                """, [host, databaseID])
            return true
        }
    }

    /// Forgets every row of this host (and what was shipped under it), to ship them all again.
    public func reset() throws(PostgresError) {
        try connection.transaction { () throws(PostgresError) in try forget(host) }
    }

    private func forget(_ name: String) throws(PostgresError) {
        for table in ShippedTable.all {
            try connection.query("DELETE FROM \(table.name) WHERE host = $1", [name])
        }
        try connection.query("DELETE FROM fleet_marks WHERE host = $1", [name])
    }

    /// Per table, the highest version committed for this host.
    public func marks() throws(PostgresError) -> [String: Int64] {
        var marks: [String: Int64] = [:]
        for row in try connection.query("SELECT shipped_table, version FROM fleet_marks WHERE host = $1", [host]) {
            if let table = row[0], let version = row[1].flatMap({ Int64($0) }) { marks[table] = version }
        }
        return marks
    }

    /// Writes `batch` in one transaction, if this host is still registered with `databaseID`
    /// (else another file took the name over, and this one must register again first).
    public func ship(_ batch: [(table: ShippedTable, rows: [ShippedRow])], databaseID: String) throws(PostgresError) {
        try connection.transaction { () throws(PostgresError) in
            let owner = try connection.scalar("SELECT database_id FROM fleet_hosts WHERE host = $1 FOR SHARE", [host])
            guard owner == databaseID else {
                throw .statement(sqlState: "TW001", message: "host \(host) is registered by another database (\(owner ?? "none")); registering again")
            }
            for (table, rows) in batch {
                try upsert(table, rows.filter { $0.values != nil })
                for row in rows where row.values == nil { try delete(table, row) }
                if let last = rows.map(\.version).max() {
                    try connection.query("""
                        INSERT INTO fleet_marks (host, shipped_table, version) VALUES ($1, $2, $3)
                        ON CONFLICT (host, shipped_table) DO UPDATE SET version = GREATEST(fleet_marks.version, EXCLUDED.version)
                        """, [host, table.name, String(last)])
                }
            }
            try connection.query("UPDATE fleet_hosts SET shipped_at = EXTRACT(EPOCH FROM now())::BIGINT WHERE host = $1", [host])
        }
    }

    /// Rows per statement: 1,000 rows of up to 11 columns stay far below PostgreSQL's 65,535 parameters.
    static let rowsPerStatement = 1000

    private func upsert(_ table: ShippedTable, _ rows: [ShippedRow]) throws(PostgresError) {
        let columns = ["host"] + table.columns + ["version"]
        let quoted = columns.map(Self.quote).joined(separator: ", ")
        let updates = (table.values + ["version"]).map { "\(Self.quote($0)) = EXCLUDED.\(Self.quote($0))" }.joined(separator: ", ")
        let conflict = (["host"] + table.keys).map(Self.quote).joined(separator: ", ")
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(rows.count, start + Self.rowsPerStatement)]
            var parameters: [String?] = []
            parameters.reserveCapacity(chunk.count * columns.count)
            var tuples: [String] = []
            tuples.reserveCapacity(chunk.count)
            for row in chunk {
                let first = parameters.count
                parameters.append(host)
                parameters.append(contentsOf: row.key)
                parameters.append(contentsOf: row.values ?? [])
                parameters.append(String(row.version))
                tuples.append("(" + (first + 1...parameters.count).map { "$\($0)" }.joined(separator: ", ") + ")")
            }
            try connection.query("""
                INSERT INTO \(table.name) AS t (\(quoted)) VALUES \(tuples.joined(separator: ", "))
                ON CONFLICT (\(conflict)) DO UPDATE SET \(updates) WHERE t.version < EXCLUDED.version
                """, parameters)
            start += chunk.count
        }
    }

    private func delete(_ table: ShippedTable, _ row: ShippedRow) throws(PostgresError) {
        let keys = table.keys.enumerated().map { "\(Self.quote($1)) = $\($0 + 2)" }.joined(separator: " AND ")
        try connection.query(
            "DELETE FROM \(table.name) WHERE host = $1 AND \(keys) AND version < $\(table.keys.count + 2)",
            [host] + row.key + [String(row.version)])
    }

    /// `"user"` is a reserved word in PostgreSQL; every column is quoted alike.
    static func quote(_ column: String) -> String { "\"\(column)\"" }
}
