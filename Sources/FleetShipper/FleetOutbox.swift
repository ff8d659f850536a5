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
    ///
    /// Keys and values are read as bytes: a log line or a service's answer chose many of them, and
    /// PostgreSQL's text takes neither NUL nor invalid UTF-8, which would make it refuse the batch,
    /// and the shipper stop, for good. Such bytes travel escaped as `\xHH` (`text(_:)`). Two keys
    /// that end up alike in one batch are sent once, the newer, as PostgreSQL refuses to update one
    /// row twice in a statement.
    public static func nextBatch(_ db: Database, limit: Int) throws -> [(table: ShippedTable, rows: [ShippedRow])] {
        try ShippedTable.all.compactMap { table in
            let columns = table.columns.map { "CAST(\($0) AS BLOB)" }.joined(separator: ", ")
            var newest: [[String]: ShippedRow] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT seq, \(columns) FROM \(table.outbox) ORDER BY seq LIMIT ?", arguments: [limit]) {
                let key = table.keys.indices.map { text(r[$0 + 1]) ?? "" }
                let values = table.values.indices.map { text(r[table.keys.count + 1 + $0]) }
                let deleted = values.first.map { $0 == nil } ?? true
                newest[key] = ShippedRow(version: r[0], key: key, values: deleted ? nil : values)
            }
            let rows = newest.values.sorted { $0.version < $1.version }
            return rows.isEmpty ? nil : (table, rows)
        }
    }

    /// A column read as a BLOB, as PostgreSQL text (nil for NULL).
    private static func text(_ value: DatabaseValue) -> String? {
        switch value.storage {
        case .null: nil
        case .blob(let data): keyText(Array(data))
        case .int64(let n): String(n)
        case .double(let d): String(d)
        case .string(let s): keyText(Array(s.utf8))
        }
    }

    /// A key's bytes as PostgreSQL text: as they are when they are UTF-8 without NUL, else with
    /// NUL and every byte of 0x80 and above written `\xHH`.
    static func keyText(_ bytes: [UInt8]) -> String {
        if !bytes.contains(0), let text = String(validating: bytes, as: UTF8.self) { return text }
        var out = ""
        for byte in bytes {
            if byte == 0 || byte >= 0x80 {
                out += "\\x" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            } else {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        return out
    }

    /// Forgets what PostgreSQL committed: every row up to the batch's last version, per table. A
    /// row changed again since was replaced by one with a higher sequence, and stays.
    public static func markShipped(_ db: Database, _ batch: [(table: ShippedTable, rows: [ShippedRow])]) throws {
        for (table, rows) in batch {
            guard let last = rows.map(\.version).max() else { continue }
            try db.execute(sql: "DELETE FROM \(table.outbox) WHERE seq <= ?", arguments: [last])
            try db.execute(sql: "INSERT INTO fleet_marks (shipped_table, version) VALUES (?, ?) ON CONFLICT (shipped_table) DO UPDATE SET version = max(version, excluded.version)",
                           arguments: [table.name, last])
        }
    }

    /// Whether this file and PostgreSQL cannot both be right about what was shipped:
    ///
    /// - PostgreSQL ahead of this file's own sequence: the file went back in time (restored from
    ///   a copy, or its last commits lost in a power cut); its next versions would be refused as
    ///   older than what PostgreSQL holds.
    /// - PostgreSQL behind what this file knows it committed: the fleet database was restored,
    ///   and rows deleted here as shipped (and deletions shipped since) are missing there.
    ///
    /// PostgreSQL a batch ahead of the file's record (a crash between the two commits) is
    /// neither: those rows are still in the outbox and are simply sent again.
    public static func disagrees(_ db: Database, remote: [String: Int64]) throws -> Bool {
        for table in ShippedTable.all {
            let mark = remote[table.name] ?? 0
            let shipped = try Int64.fetchOne(db, sql: "SELECT version FROM fleet_marks WHERE shipped_table = ?", arguments: [table.name]) ?? 0
            let sequence = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = ?", arguments: [table.outbox]) ?? 0
            if sequence < mark || mark < shipped { return true }
        }
        return false
    }

    /// Queues every current row again, after the fleet forgot this host's rows (see `FleetWriter.reset`)
    /// or before registering with a fleet database that does not know this file. Nothing is marked
    /// shipped any more.
    ///
    /// In transactions of at most `chunk` rows (`copyInChunks`), so that the daemon's writer never
    /// waits long for a large server's copy. Until the last one `fleet_requeue` holds a row: a
    /// shipper stopped halfway starts over (`requeuePending`).
    public static func queueEverything(
        _ writer: some DatabaseWriter, followed: (Database) throws -> [FollowedTable], chunk: Int = 50_000
    ) throws {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM fleet_requeue")
            try db.execute(sql: "INSERT INTO fleet_requeue (started_at) VALUES (\(now))")
            try db.execute(sql: "DELETE FROM fleet_marks")
        }
        // What the outbox holds stays: each key's latest change, which the copy replaces with the
        // same values (a tombstone left there deletes nothing in a fleet that forgot the host),
        // and the lag never shows an empty outbox while the copy runs.
        for table in ShippedTable.all where table.hasSource {
            try copyInChunks(
                writer, from: table.name, keys: table.keys.map(table.sourceColumn), chunk: chunk,
                insert: "INSERT OR REPLACE INTO \(table.outbox) (\(table.columns.joined(separator: ", ")), queued_at) "
                    + "SELECT \(table.columns.map(table.sourceColumn).joined(separator: ", ")), \(now) FROM \(table.name)")
        }
        try follow(writer, try writer.read(followed), again: true, chunk: chunk)
        try writer.write { db in try db.execute(sql: "DELETE FROM fleet_requeue") }
    }

    /// Runs `insert` (an `INSERT … SELECT … FROM` the table `from`) over the table's rows in the
    /// order of `keys` (unique together), `chunk` rows per write transaction.
    ///
    /// Why this is exact while the daemon writes between the transactions: the table's triggers
    /// are in place before the first, so a row changed or deleted meanwhile reaches the outbox
    /// through them; a chunk copies rows as they are when it runs, and `insert` replaces an
    /// outbox row of the same key (`OR REPLACE`) with that same, current value.
    static func copyInChunks(_ writer: some DatabaseWriter, from table: String, keys: [String], chunk: Int, insert: String) throws {
        let keyList = keys.joined(separator: ", ")
        let marks = "(" + Array(repeating: "?", count: keys.count).joined(separator: ", ") + ")"
        var last: [DatabaseValue]?
        repeat {
            last = try writer.write { db -> [DatabaseValue]? in
                var conditions = last == nil ? [] : ["(\(keyList)) > \(marks)"]
                // The chunk's last key, if the table goes on past it.
                let end = try Row.fetchOne(
                    db, sql: "SELECT \(keyList) FROM \(table)\(conditions.isEmpty ? "" : " WHERE " + conditions[0]) ORDER BY \(keyList) LIMIT 1 OFFSET \(chunk - 1)",
                    arguments: StatementArguments(last ?? []))
                    .map { row in (0..<row.count).map { row[$0] as DatabaseValue } }
                if end != nil { conditions.append("(\(keyList)) <= \(marks)") }
                try db.execute(
                    sql: insert + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")) + " ORDER BY \(keyList)",
                    arguments: StatementArguments((last ?? []) + (end ?? [])))
                return end
            }
        } while last != nil
    }

    /// Whether a `queueEverything` was cut short (the shipper stopped or killed in the middle).
    public static func requeuePending(_ db: Database) throws -> Bool {
        try Int64.fetchOne(db, sql: "SELECT count(*) FROM fleet_requeue") ?? 0 > 0
    }

    /// A counter table found at run time (a custom driver's), whose rows ship as `custom_counts`.
    public struct FollowedTable: Sendable, Equatable {
        public let table: String
        public let driver: String
        /// Its key columns (without `bucket`), in its key order.
        public let keys: [String]

        public init(table: String, driver: String, keys: [String]) {
            self.table = table
            self.driver = driver
            self.keys = keys
        }
    }

    /// Whether some of `tables` has no outbox triggers of its own yet (a read: the shipper asks
    /// this each round, and writes only when the answer is yes).
    public static func needsFollowing(_ db: Database, _ tables: [FollowedTable]) throws -> Bool {
        try tables.contains { table in try !Set(triggers(db, on: table.table)).isSuperset(of: triggerNames(table.table)) }
    }

    /// Puts the outbox triggers on each of `tables` that lacks them (`again`: on every one), then
    /// queues its rows in chunks (`copyInChunks`). While that runs `fleet_requeue` holds a row, so
    /// a shipper stopped before the end (the triggers in place, the rows not all queued) queues
    /// everything again at its next start.
    ///
    /// A retired table (renamed `…_vN` by its driver) carries the triggers of its former name
    /// along, and its rows were shipped under that name: in the transaction that moves the
    /// triggers, they are queued as deleted under it, then in chunks under the new name. The
    /// current table, handled after the retired ones, queues its rows last, so a key it shares
    /// with the retired one keeps its new value.
    public static func follow(_ writer: some DatabaseWriter, _ tables: [FollowedTable], again: Bool = false, chunk: Int = 50_000) throws {
        var marked = false
        for table in tables {
            let source = quoted(table.table)
            let keyValues = "json_array(" + table.keys.map(quoted).joined(separator: ", ") + ")"
            let started = try writer.write { db -> Bool in
                let present = try triggers(db, on: table.table)
                let own = triggerNames(table.table)
                guard try db.tableExists(table.table), again || !Set(present).isSuperset(of: own) else { return false }
                if try !requeuePending(db) {
                    try db.execute(sql: "INSERT INTO fleet_requeue (started_at) VALUES (\(now))")
                    marked = true
                }
                for former in present where !own.contains(former) {
                    try db.execute(sql: "DROP TRIGGER \(quoted(former))")
                    guard former.hasSuffix("_insert") else { continue }
                    let formerTable = String(former.dropFirst(triggerPrefix.count).dropLast("_insert".count))
                    try db.execute(sql: """
                        INSERT OR REPLACE INTO fleet_outbox_custom_counts (counts_table, key_values, bucket, driver, count, sum, queued_at)
                        SELECT \(literal(formerTable)), \(keyValues), bucket, NULL, NULL, NULL, \(now) FROM \(source)
                        """)
                }
                for name in own { try db.execute(sql: "DROP TRIGGER IF EXISTS \(quoted(name))") }
                for (name, (event, row)) in zip(own, [("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")]) {
                    let key = "json_array(" + table.keys.map { "\(row).\(quoted($0))" }.joined(separator: ", ") + ")"
                    let values = row == "OLD" ? "NULL, NULL, NULL" : "\(literal(table.driver)), NEW.count, NEW.sum"
                    try db.execute(sql: """
                        CREATE TRIGGER \(quoted(name)) AFTER \(event) ON \(source) BEGIN
                            DELETE FROM fleet_outbox_custom_counts WHERE counts_table = \(literal(table.table)) AND key_values = \(key) AND bucket = \(row).bucket;
                            INSERT INTO fleet_outbox_custom_counts (counts_table, key_values, bucket, driver, count, sum, queued_at)
                            VALUES (\(literal(table.table)), \(key), \(row).bucket, \(values), \(now));
                        END
                        """)
                }
                return true
            }
            guard started else { continue }
            try copyInChunks(
                writer, from: source, keys: (["bucket"] + table.keys).map(quoted), chunk: chunk,
                insert: "INSERT OR REPLACE INTO fleet_outbox_custom_counts (counts_table, key_values, bucket, driver, count, sum, queued_at) "
                    + "SELECT \(literal(table.table)), \(keyValues), bucket, \(literal(table.driver)), count, sum, \(now) FROM \(source)")
        }
        if marked { try writer.write { db in try db.execute(sql: "DELETE FROM fleet_requeue") } }
    }

    /// SQL for the current unix time.
    private static let now = "CAST(strftime('%s', 'now') AS INTEGER)"

    private static let triggerPrefix = "fleet_outbox_"

    /// The insert, update and delete triggers of `table`, by name.
    static func triggerNames(_ table: String) -> [String] {
        ["insert", "update", "delete"].map { "\(triggerPrefix)\(table)_\($0)" }
    }

    private static func triggers(_ db: Database, on table: String) throws -> [String] {
        try String.fetchAll(
            db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND name GLOB ?", arguments: [table, triggerPrefix + "*"])
    }

    private static func quoted(_ identifier: String) -> String { "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
    private static func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

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

}

private extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
