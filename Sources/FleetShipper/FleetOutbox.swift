import FleetStore
import Foundation
import GRDB
import TailWatchEngine

/// The SQLite side of shipping: the outbox tables the triggers of `Migrations/FleetShipper/` fill,
/// read in sequence order and emptied only after PostgreSQL committed what was read.
public enum FleetOutbox {
    /// The outbox's schema. Applied only when `[fleet]` is configured (the triggers cost a copy of
    /// each changed rollup row per batch), and kept after: a shipper turned off and on again
    /// finds every change made in between.
    public static let migrations = MigrationSet(module: "FleetShipper", files: embeddedMigrationFiles)

    /// This file's identity in the fleet.
    public static func databaseID(_ db: Database) throws -> String {
        guard let id = try String.fetchOne(db, sql: "SELECT database_id FROM fleet_identity") else {
            throw StoreError.cannotOpen(path: db.description, reason: "fleet_identity is empty")
        }
        return id
    }

    /// The oldest `limit` changes of each shipped table, oldest first.
    public static func nextBatch(_ db: Database, limit: Int) throws -> [(table: ShippedTable, rows: [ShippedRow])] {
        try ShippedTable.all.compactMap { table in
            let columns = table.columns.joined(separator: ", ")
            let rows = try Row.fetchAll(db, sql: "SELECT seq, \(columns) FROM \(table.outbox) ORDER BY seq LIMIT ?", arguments: [limit]).map { r in
                let key = table.keys.indices.map { text(r[$0 + 1]) }
                let deleted = r[table.keys.count + 1] as DatabaseValue == .null
                let values: [String]? = deleted ? nil : table.values.indices.map { text(r[table.keys.count + 1 + $0]) }
                return ShippedRow(version: r[0], key: key, values: values)
            }
            return rows.isEmpty ? nil : (table, rows)
        }
    }

    /// Forgets what PostgreSQL committed: every row up to the batch's last version, per table. A
    /// row changed again since was replaced by one with a higher sequence, and stays.
    public static func markShipped(_ db: Database, _ batch: [(table: ShippedTable, rows: [ShippedRow])]) throws {
        for (table, rows) in batch {
            guard let last = rows.map(\.version).max() else { continue }
            try db.execute(sql: "DELETE FROM \(table.outbox) WHERE seq <= ?", arguments: [last])
        }
    }

    /// Queues every current row again: before registering with a fleet database that does not
    /// know this file (a new fleet database, or this host name shipped by another file before).
    public static func queueEverything(_ db: Database) throws {
        for table in ShippedTable.all {
            let columns = table.columns.joined(separator: ", ")
            let keys = table.keys.joined(separator: ", ")
            // Tombstones of rows the fleet never had are dropped with the rest: the fleet starts
            // from this file's content.
            try db.execute(sql: "DELETE FROM \(table.outbox)")
            try db.execute(sql: """
                INSERT INTO \(table.outbox) (\(columns), queued_at)
                SELECT \(columns), CAST(strftime('%s', 'now') AS INTEGER) FROM \(table.name) ORDER BY \(keys)
                """)
        }
    }

    /// Rows waiting, and the age in seconds of the oldest (0 when none): `--status=long`.
    public static func lag(_ db: Database, now: Int64) throws -> (rows: Int64, seconds: Int64) {
        var rows: Int64 = 0
        var oldest: Int64?
        for table in ShippedTable.all {
            guard try db.tableExists(table.outbox) else { continue }
            rows += try Int64.fetchOne(db, sql: "SELECT count(*) FROM \(table.outbox)") ?? 0
            if let queued = try Int64.fetchOne(db, sql: "SELECT queued_at FROM \(table.outbox) ORDER BY seq LIMIT 1") {
                oldest = min(oldest ?? queued, queued)
            }
        }
        return (rows, oldest.map { max(0, now - $0) } ?? 0)
    }

    private static func text(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .int64(let n): String(n)
        case .double(let d): String(d)
        case .string(let s): s
        case .blob(let data): String(decoding: data, as: UTF8.self)
        case .null: ""
        }
    }
}
