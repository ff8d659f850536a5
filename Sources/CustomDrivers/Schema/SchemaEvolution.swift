import Foundation
import GRDB
import TailWatchEngine

/// Brings a custom driver's tables to what its definition asks for, as a migration of its own
/// (module `custom.NAME` in `tailwatch_migrations`), and never drops data.
///
/// - a new table is created; a new column is added (`ALTER TABLE … ADD COLUMN`, old rows get NULL);
/// - a column no longer defined stays in the table, unfilled;
/// - a change the table cannot take in place (a column's type, the counter's keys or bucket size)
///   renames the old table to `…_vN` (N: the migration that retired it), where its rows stay for
///   reading, and creates the new one empty. The daemon log says so.
enum SchemaEvolution {
    struct Plan {
        var statements: [String] = []
        var changes: [String] = []
        var notes: [String] = []
    }

    /// Applies the plan for `definition` in one write transaction; returns what changed (for the
    /// log), empty when the tables already matched.
    static func apply(_ db: Database, definition: CustomDefinition) throws -> Plan {
        var plan = Plan()
        try db.inTransaction(.immediate) {
            let module = "custom.\(definition.name)"
            let version = try Store.migrationVersion(db, module: module) + 1
            let recorded = try String.fetchOne(db, sql: "SELECT schema FROM custom_driver_schemas WHERE driver = ?", arguments: [definition.name])
                .flatMap { try? CustomSchema(json: $0) }
            let wanted = CustomSchema(definition)
            plan = try Self.plan(db, definition: definition, wanted: wanted, recorded: recorded, version: version)
            // A table the definition no longer fills keeps its recorded shape, for reports on its
            // rows and for the day the definition asks for it again.
            let linesKept = try db.tableExists(definition.linesTable) ? recorded?.lines : nil
            let counterKept = try db.tableExists(definition.countsTable) ? recorded?.counter : nil
            let kept = CustomSchema(lines: wanted.lines ?? linesKept, counter: wanted.counter ?? counterKept)
            if !plan.statements.isEmpty {
                let name = plan.changes.joined(separator: "; ").map { $0.isLetter || $0.isNumber ? $0 : "_" }
                try Store.applyGeneratedMigration(db, module: module, name: String(String(name).prefix(120)), statements: plan.statements)
            }
            if recorded != kept || !plan.statements.isEmpty {
                try db.execute(sql: """
                    INSERT INTO custom_driver_schemas (driver, definition, description, schema, updated_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (driver) DO UPDATE SET definition = excluded.definition, description = excluded.description,
                        schema = excluded.schema, updated_at = excluded.updated_at
                    """, arguments: [definition.name, definition.file, definition.description, kept.json, Int(Date().timeIntervalSince1970)])
            } else {
                try db.execute(sql: "UPDATE custom_driver_schemas SET definition = ?, description = ? WHERE driver = ?",
                               arguments: [definition.file, definition.description, definition.name])
            }
            return .commit
        }
        return plan
    }

    /// The index on a lines table's `at`. The `:` cannot occur in a driver's name, so no table of
    /// another driver can have this name (tables and indexes share SQLite's namespace).
    static func indexName(_ table: String) -> String { "\(table):at" }

    /// A table with a custom driver's name that it did not create.
    struct ForeignTable: Error, CustomStringConvertible {
        let table: String
        let missing: [String]
        var description: String {
            "table \(table) exists but is not this driver's (no column \(missing.joined(separator: ", "))); rename that table or this driver"
        }
    }

    private struct ExistingColumn {
        let name: String
        let type: String
        let primaryKeyPosition: Int
    }

    private static func existingColumns(_ db: Database, _ table: String) throws -> [ExistingColumn]? {
        guard try db.tableExists(table) else { return nil }
        return try Row.fetchAll(db, sql: "PRAGMA table_info(\(quoted(table)))").map {
            ExistingColumn(name: $0["name"], type: ($0["type"] as String).uppercased(), primaryKeyPosition: $0["pk"])
        }
    }

    static func plan(_ db: Database, definition: CustomDefinition, wanted: CustomSchema, recorded: CustomSchema?, version: Int) throws -> Plan {
        var plan = Plan()
        let linesTable = definition.linesTable, countsTable = definition.countsTable

        func archive(_ table: String, because reason: String) {
            let archived = "\(table)_v\(version)"
            plan.statements.append("ALTER TABLE \(quoted(table)) RENAME TO \(quoted(archived))")
            plan.statements.append("DROP INDEX IF EXISTS \(quoted(indexName(table)))")
            plan.changes.append("archive \(table) as \(archived)")
            plan.notes.append("\(reason): the rows so far stay in \(archived); \(table) starts empty")
        }

        // A table of the name but not of the shape is someone else's: never altered.
        func requireOurs(_ table: String, _ have: [ExistingColumn]?, _ needed: [String]) throws {
            guard let have else { return }
            let missing = needed.filter { n in !have.contains { $0.name == n } }
            if !missing.isEmpty { throw ForeignTable(table: table, missing: missing) }
        }
        try requireOurs(linesTable, try existingColumns(db, linesTable), ["id", "at", "source"])
        try requireOurs(countsTable, try existingColumns(db, countsTable), ["bucket", "count", "sum"])

        if let columns = wanted.lines {
            var existing = try existingColumns(db, linesTable)
            if let have = existing {
                let conflicting = columns.filter { c in have.contains { $0.name == c.name && $0.type != sqlType(ofSpelling: c.type) } }
                if let c = conflicting.first {
                    archive(linesTable, because: "column '\(c.name)' of \(linesTable) changed its type to \(c.type)")
                    existing = nil
                }
            }
            if let have = existing {
                let added = columns.filter { c in !have.contains { $0.name == c.name } }
                for c in added {
                    plan.statements.append("ALTER TABLE \(quoted(linesTable)) ADD COLUMN \(quoted(c.name)) \(sqlType(ofSpelling: c.type))")
                }
                if !added.isEmpty { plan.changes.append("add \(added.map(\.name).joined(separator: ", ")) to \(linesTable)") }
                let dropped = have.filter { h in !["id", "at", "source"].contains(h.name) && !columns.contains { $0.name == h.name } }
                if !dropped.isEmpty {
                    plan.notes.append("\(linesTable) keeps its column(s) \(dropped.map(\.name).joined(separator: ", ")), no longer in the definition; new rows leave them empty")
                }
            } else {
                let body = (["id INTEGER PRIMARY KEY", "at INTEGER NOT NULL", "source INTEGER NOT NULL"]
                    + columns.map { "\(quoted($0.name)) \(sqlType(ofSpelling: $0.type))" }).joined(separator: ", ")
                plan.statements.append("CREATE TABLE \(quoted(linesTable)) (\(body))")
                plan.statements.append("CREATE INDEX \(quoted(indexName(linesTable))) ON \(quoted(linesTable)) (at)")
                plan.changes.append("create \(linesTable)")
            }
        } else if try db.tableExists(linesTable) {
            plan.notes.append("lines are no longer stored; \(linesTable) keeps the rows it has")
        }

        if let counter = wanted.counter {
            var exists = try existingColumns(db, countsTable) != nil
            if let have = try existingColumns(db, countsTable) {
                let keys = have.filter { $0.primaryKeyPosition > 0 }.sorted { $0.primaryKeyPosition < $1.primaryKeyPosition }
                let wantedKeys = [("bucket", "INTEGER")] + counter.by.map { ($0.name, sqlType(ofSpelling: $0.type)) }
                let sameKeys = keys.count == wantedKeys.count && zip(keys, wantedKeys).allSatisfy { $0.name == $1.0 && $0.type == $1.1 }
                let sameBucket = recorded?.counter.map { $0.bucketSeconds == counter.bucketSeconds } ?? true
                let sameSum = recorded?.counter.map { $0.sum == counter.sum } ?? true
                if !sameKeys {
                    archive(countsTable, because: "the counter's keys changed to [\(counter.by.map(\.name).joined(separator: ", "))]")
                    exists = false
                } else if !sameBucket {
                    archive(countsTable, because: "the counter's bucket changed to \(counter.bucketSeconds / 60) minutes")
                    exists = false
                } else if !sameSum {
                    archive(countsTable, because: "the counter now sums \(counter.sum ?? "nothing")")
                    exists = false
                }
            }
            if !exists {
                // Bucket first in the key: new counts land at the table's end (time goes forward),
                // and retention deletes a range at its start, with no second index to keep up.
                let keys = counter.by.map { "\(quoted($0.name)) \(sqlType(ofSpelling: $0.type)) NOT NULL" }
                let body = (keys + ["bucket INTEGER NOT NULL", "count INTEGER NOT NULL", "sum INTEGER NOT NULL DEFAULT 0",
                                    "PRIMARY KEY (\((["bucket"] + counter.by.map { quoted($0.name) }).joined(separator: ", ")))"]).joined(separator: ", ")
                plan.statements.append("CREATE TABLE \(quoted(countsTable)) (\(body)) WITHOUT ROWID")
                plan.changes.append("create \(countsTable)")
            }
        } else if try db.tableExists(countsTable) {
            plan.notes.append("the counter is gone from the definition; \(countsTable) keeps the counts it has")
        }
        return plan
    }
}
