import FleetStore
import TailWatchEngine

/// How `tailwatch-report --fleet` connects: the configuration's `[fleet]`, its password, and a
/// schema this binary knows.
public enum FleetDatabase {
    /// The connection, the fleet schema's version, and the configuration it came from.
    public static func open(configPath explicit: String?) throws(CommandFailure) -> (PostgresConnection, version: Int, LoadedConfiguration) {
        let loaded = try ReportDatabase.configuration(explicit)
        guard let target = loaded.fleet.target else {
            throw .usage("--fleet needs [fleet] postgres = \"postgres://…\" in \(loaded.file.path)")
        }
        do {
            let connection = try target.connect(applicationName: "tailwatch-report")
            let version = try FleetSchema.version(connection)
            guard version > 0 else { throw CommandFailure.runtime("the fleet's PostgreSQL has no TailWatch tables yet: no server has shipped to it") }
            guard version <= FleetSchema.latestVersion else { throw PostgresError.newerSchema(database: version, binary: FleetSchema.latestVersion) }
            return (connection, version, loaded)
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw .runtime("\(error)")
        }
    }
}
