import GRDB
import TailWatchEngine

/// Opens the database named by the configuration, read-only, for whatever answers questions about
/// it (the report CLI today; the web pages and the fleet shipper read through the same door), so
/// that every reader checks the schema the same way and fails with the same one-line messages.
public enum ReportDatabase {
    /// The configuration at `configPath` (or the default one) and a reader on its database.
    /// `requiring`: migration modules the caller's queries need (a database from before them is
    /// refused with a message naming the daemon version to run first).
    public static func open(configPath explicit: String?, requiring: [String] = []) throws(CommandFailure) -> (DatabaseQueue, LoadedConfiguration) {
        let loaded = try configuration(explicit)
        do {
            return (try Store.openReader(path: loaded.settings.database, modules: DriverRegistry.migrationSets, requiring: requiring), loaded)
        } catch {
            throw .runtime("\(error)")
        }
    }

    /// The configuration at `configPath` (or the default one) as a reader needs it (no secrets
    /// read); a mistake in it is a usage failure.
    public static func configuration(_ explicit: String?) throws(CommandFailure) -> LoadedConfiguration {
        do {
            return try LoadedConfiguration.load(path: ConfigFile.resolvePath(explicit: explicit), forDaemon: false)
        } catch {
            throw .usage(error.description)
        }
    }
}
