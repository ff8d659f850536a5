/// A rollup the fleet receives: its name (the same in SQLite and PostgreSQL), the columns of its
/// natural key and the columns of its absolute values.
///
/// Why one list: the shipper reads the SQLite outbox of each (`Migrations/FleetShipper/`), the
/// store writes and the fleet reports read the PostgreSQL table of the same name
/// (`Migrations/FleetStore/`); both SQL files must name these columns, and a test checks that they do.
public struct ShippedTable: Sendable, Equatable {
    public let name: String
    public let keys: [String]
    /// The first is never NULL in the source: NULL there marks a deleted row (a tombstone).
    public let values: [String]
    /// The source's expression for a column it does not have by that name (`service_checks`
    /// has no natural key; its rowid is shipped as `id`).
    public let renamed: [String: String]
    /// Whether a table of this name is the source. Custom counters come from many tables found at
    /// run time (`FleetOutbox.follow`).
    public let hasSource: Bool

    public init(name: String, keys: [String], values: [String], renamed: [String: String] = [:], hasSource: Bool = true) {
        self.name = name
        self.keys = keys
        self.values = values
        self.renamed = renamed
        self.hasSource = hasSource
    }

    public var columns: [String] { keys + values }
    /// The SQLite table the triggers fill.
    public var outbox: String { "fleet_outbox_" + name }
    /// `column` as the source table spells it.
    public func sourceColumn(_ column: String) -> String { renamed[column] ?? column }

    public static let bandwidthHourly = ShippedTable(name: "bandwidth_hourly", keys: ["user", "domain", "protocol", "period"], values: ["bytes", "hits"])
    public static let bandwidthDaily = ShippedTable(name: "bandwidth_daily", keys: ["user", "domain", "protocol", "period"], values: ["bytes", "hits"])
    public static let bandwidthMonthly = ShippedTable(name: "bandwidth_monthly", keys: ["user", "domain", "protocol", "period"], values: ["bytes", "hits"])
    public static let mailHourly = ShippedTable(
        name: "mail_hourly", keys: ["user", "domain", "hour"], values: ["sent", "sent_bytes", "delivered", "failed", "deferred", "remote_delivered"])

    public static let relayAuth = ShippedTable(name: "relay_auth", keys: ["ip", "user", "protocol"], values: ["first_login", "last_login", "logins"])
    public static let serviceState = ShippedTable(
        name: "service_state", keys: ["service"], values: ["status", "last_check", "consecutive_failures", "last_restart", "flapping_since"])
    public static let serviceChecks = ShippedTable(
        name: "service_checks", keys: ["id"], values: ["time", "service", "status", "passed", "socket", "process", "latency_ms", "action", "detail"],
        renamed: ["id": "rowid"])

    public static let customSchemas = ShippedTable(name: "custom_driver_schemas", keys: ["driver"], values: ["schema"])
    public static let customCounts = ShippedTable(
        name: "custom_counts", keys: ["counts_table", "key_values", "bucket"], values: ["driver", "count", "sum"], hasSource: false)

    public static let all: [ShippedTable] = [
        bandwidthHourly, bandwidthDaily, bandwidthMonthly, mailHourly, relayAuth, serviceState, serviceChecks, customSchemas, customCounts,
    ]
}

/// One changed row from a server's outbox: its key and values as text (PostgreSQL's parameters
/// are text; a value may be NULL), the values nil when the row was deleted there.
public struct ShippedRow: Sendable, Equatable {
    public let version: Int64
    public let key: [String]
    public let values: [String?]?

    public init(version: Int64, key: [String], values: [String?]?) {
        self.version = version
        self.key = key
        self.values = values
    }
}
