import GRDB

/// A counter table a custom driver made on this file: the current `custom_NAME_counts`, or one a
/// change of the counter's keys, bucket or sum retired as `custom_NAME_counts_vN` (kept for reading).
///
/// Why public: the fleet's shipper follows these tables, whose names and keys definitions decide at
/// run time, without knowing how a definition becomes a table.
public struct CustomCounterTable: Sendable, Equatable {
    public let driver: String
    public let table: String
    /// The key columns in the table's key order, without `bucket`.
    public let keys: [String]

    /// Every counter table of every driver recorded in `custom_driver_schemas`, retired ones first
    /// (by version), then the current one, per driver.
    public static func all(_ db: Database) throws -> [CustomCounterTable] {
        var found: [CustomCounterTable] = []
        for driver in try CustomReport.names(db) where DefinitionLoader.isIdentifier(driver) {
            let current = CustomDefinition.countsTable(driver)
            let retired = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB ?", arguments: [current + "_v[0-9]*"])
                .compactMap { name in Int(name.dropFirst(current.count + 2)).map { (name, $0) } }
                .sorted { $0.1 < $1.1 }.map(\.0)
            for table in retired + [current] {
                let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(\(quoted(table)))")
                let names = Set(columns.map { $0["name"] as String })
                guard ["bucket", "count", "sum"].allSatisfy(names.contains) else { continue }
                let keys = columns.filter { ($0["pk"] as Int) > 0 && ($0["name"] as String) != "bucket" }
                    .sorted { ($0["pk"] as Int) < ($1["pk"] as Int) }.map { $0["name"] as String }
                found.append(CustomCounterTable(driver: driver, table: table, keys: keys))
            }
        }
        return found
    }
}
