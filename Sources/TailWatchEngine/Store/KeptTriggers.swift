import GRDB

/// The triggers on the tables a migration rebuilds, put back once it has run.
///
/// Why: SQLite cannot change a table's key in place, so a migration that does builds a new table,
/// copies the rows, drops the old one and renames the new one; dropping a table drops its
/// triggers. Those may belong to another module (the fleet's outbox records every change of the
/// rollups it ships, also while the shipper is switched off), which the migrating module does not
/// know of: without them, changes would silently stop being recorded. A trigger is put back when
/// its table exists again in a new b-tree (rebuilt) and the trigger is gone. A migration that
/// means to drop a trigger of a table it rebuilds drops it in a later migration.
struct KeptTriggers {
    private struct Trigger {
        let name: String
        let table: String
        let sql: String
        let rootPage: Int64
    }

    private let triggers: [Trigger]

    /// The database's triggers now, with the b-tree of the table each is on.
    init(_ db: Database) throws {
        triggers = try Row.fetchAll(db, sql: """
            SELECT t.name, t.tbl_name, t.sql, s.rootpage FROM sqlite_master t
            JOIN sqlite_master s ON s.type = 'table' AND s.name = t.tbl_name
            WHERE t.type = 'trigger'
            """).map { Trigger(name: $0[0], table: $0[1], sql: $0[2], rootPage: $0[3]) }
    }

    /// Creates again each trigger that is gone while its table was rebuilt.
    func restore(_ db: Database) throws {
        for trigger in triggers {
            let exists = try Bool.fetchOne(db, sql: "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'trigger' AND name = ?", arguments: [trigger.name]) ?? false
            guard !exists,
                  let rootPage = try Int64.fetchOne(db, sql: "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [trigger.table]),
                  rootPage != trigger.rootPage
            else { continue }
            try db.execute(sql: trigger.sql)
        }
    }
}
