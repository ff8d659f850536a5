/// A rollup the fleet receives: its name (the same in SQLite and PostgreSQL), the columns of its
/// natural key and the columns of its absolute values.
///
/// Why one list: the shipper reads the SQLite outbox of each (`Migrations/FleetShipper/`), the
/// store writes and the fleet reports read the PostgreSQL table of the same name
/// (`Migrations/FleetStore/`); both SQL files must name these columns, and a test checks that they do.
public struct ShippedTable: Sendable, Equatable {
    public let name: String
    public let keys: [String]
    public let values: [String]

    public var columns: [String] { keys + values }
    /// The SQLite table the triggers fill.
    public var outbox: String { "fleet_outbox_" + name }

    public static let bandwidthHourly = ShippedTable(name: "bandwidth_hourly", keys: ["user", "domain", "protocol", "period"], values: ["bytes", "hits"])
    public static let bandwidthDaily = ShippedTable(name: "bandwidth_daily", keys: ["user", "domain", "protocol", "period"], values: ["bytes", "hits"])
    public static let bandwidthMonthly = ShippedTable(name: "bandwidth_monthly", keys: ["user", "domain", "protocol", "period"], values: ["bytes", "hits"])
    public static let mailHourly = ShippedTable(
        name: "mail_hourly", keys: ["user", "domain", "hour"], values: ["sent", "sent_bytes", "delivered", "failed", "deferred", "remote_delivered"])

    public static let all: [ShippedTable] = [bandwidthHourly, bandwidthDaily, bandwidthMonthly, mailHourly]
}

/// One changed row from a server's outbox: its key and values as text (PostgreSQL's parameters
/// are text), the values nil when the row was deleted there.
public struct ShippedRow: Sendable, Equatable {
    public let version: Int64
    public let key: [String]
    public let values: [String]?

    public init(version: Int64, key: [String], values: [String]?) {
        self.version = version
        self.key = key
        self.values = values
    }
}
