import Foundation
import GRDB
import Logging
import TailWatchEngine

/// Runs one driver through the real engine, `--once` style, over real files in a temporary folder.
public final class DriverHarness: @unchecked Sendable {
    public let folder: TemporaryFolder
    public var settings: EngineSettings
    public let modules: [MigrationSet]

    public init(label: String, modules: [MigrationSet], userdomains: String) throws {
        folder = TemporaryFolder(label)
        self.modules = [engineMigrations] + modules
        settings = EngineSettings(
            database: folder.file("tailwatch.sqlite3"), logFile: folder.file("d.log"), pidFile: folder.file("pid"),
            userdomains: try folder.write("userdomains", userdomains))
    }

    public func database() throws -> DatabaseQueue {
        try Store.openWriter(path: settings.database, modules: modules)
    }

    /// A fresh engine catching up once with the driver `configured`.
    public func runOnce(_ name: String, _ configured: ConfiguredDriver) throws {
        let engine = try Engine(
            settings: settings, database: database(), drivers: [(name: name, configured: configured)],
            options: EngineOptions(once: true), control: EngineControl(), logger: Logger(label: "test")
        ) { Logger(label: $0) }
        _ = try engine.run()
    }

    public func count(_ sql: String) throws -> Int {
        try database().read { db in try Int.fetchOne(db, sql: sql) ?? -1 }
    }
}
