import CustomDrivers
import FleetShipper
import GRDB

/// The tables the fleet's shipper follows besides the fixed rollups: custom drivers' counter
/// tables, which definitions make at run time.
///
/// Why here: the shipper knows outboxes, the custom drivers know their tables; only the
/// composition root knows both.
public enum FleetFollowedTables {
    @Sendable public static func now(_ db: Database) throws -> [FleetOutbox.FollowedTable] {
        try CustomCounterTable.all(db).map { FleetOutbox.FollowedTable(table: $0.table, driver: $0.driver, keys: $0.keys) }
    }
}
