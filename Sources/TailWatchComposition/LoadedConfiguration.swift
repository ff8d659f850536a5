import CustomDrivers
import FleetShipper
import TailWatchEngine

/// The configuration file read and checked as a whole: engine settings, and each registered
/// driver's table interpreted by that driver.
public struct LoadedConfiguration: Sendable {
    public let file: ConfigFile
    public let settings: EngineSettings
    /// `[http]`: the daemon's web page, API and metrics.
    public let http: HTTPSettings
    /// `[fleet]`: the PostgreSQL this server ships its rollups to, if any.
    public let fleet: FleetSettings
    public let drivers: [(name: String, configured: ConfiguredDriver)]
    /// Every driver this configuration knows: the stock ones, then the custom ones in `drivers_dir`.
    public let descriptors: [DriverDescriptor]
    /// Custom driver files in `drivers_dir` that were refused, each with the file, line and reason;
    /// the daemon logs them and runs the rest.
    public let refusedCustomDrivers: [ConfigError]
    /// Their names: their `[NAME]` tables are left alone, and `--enable`/`--disable` take them.
    public let refusedCustomDriverNames: [String]

    /// Tables of the configuration that are the daemon's own, not drivers'.
    public static let serviceTables: Set<String> = ["http", "fleet"]

    /// Every name `--enable`/`--disable` and the configuration's tables may use.
    public var knownDriverNames: Set<String> { Set(descriptors.map(\.name) + refusedCustomDriverNames) }

    /// `forDaemon`: also read the files only the daemon needs (the web page's password file).
    public static func load(path: String, registry: [DriverDescriptor] = DriverRegistry.stock, forDaemon: Bool = true) throws(ConfigError) -> LoadedConfiguration {
        let file = try ConfigFile.load(path: path)
        return try LoadedConfiguration(file: file, registry: registry, forDaemon: forDaemon)
    }

    public init(file: ConfigFile, registry: [DriverDescriptor] = DriverRegistry.stock, forDaemon: Bool = true) throws(ConfigError) {
        self.file = file
        settings = try EngineSettings(from: file)
        http = try HTTPSettings(file.section("http"), readPasswords: forDaemon)
        fleet = try FleetSettings(file.section("fleet"))
        let custom = CustomDriverCatalog.load(folder: settings.driversDir, reservedNames: Set(registry.map(\.name)).union(Self.serviceTables))
        refusedCustomDrivers = custom.refused
        refusedCustomDriverNames = custom.refusedNames
        let registry = registry + custom.descriptors
        descriptors = registry
        let known = Set(registry.map(\.name) + custom.refusedNames)
        for name in file.tableNames where !known.contains(name) && !Self.serviceTables.contains(name) {
            throw ConfigError(
                file: file.path, line: file.section(name).headerLine,
                "unknown driver [\(name)] (known: \(registry.map(\.name).joined(separator: ", ")); a custom driver is known while its \(name).toml is in drivers_dir \(settings.driversDir))")
        }
        var drivers: [(name: String, configured: ConfiguredDriver)] = []
        for descriptor in registry {
            drivers.append((descriptor.name, try descriptor.configure(file.section(descriptor.name), settings)))
        }
        self.drivers = drivers
    }

    /// Every schema the daemon's writers bring up to date: the drivers', and the fleet's outbox
    /// once `[fleet]` is configured.
    public var migrationSets: [MigrationSet] {
        DriverRegistry.migrationSets + (fleet.target != nil ? [FleetOutbox.migrations] : [])
    }

    public var enabledDriverNames: [String] { drivers.filter { $0.configured.enabled }.map(\.name) }
}
