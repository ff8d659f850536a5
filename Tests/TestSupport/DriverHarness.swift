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

    /// The engine in daemon mode on a thread of its own (built there, as tailwatchd does); stop it
    /// with `stop()` on the result.
    public func startDaemon(_ name: String, _ configured: ConfiguredDriver) -> RunningEngine {
        let running = RunningEngine()
        let settings = settings, modules = modules, control = running.control
        let thread = Thread {
            defer { running.finished.signal() }
            do {
                let engine = try Engine(
                    settings: settings, database: Store.openWriter(path: settings.database, modules: modules),
                    drivers: [(name: name, configured: configured)], options: EngineOptions(once: false),
                    control: control, logger: Logger(label: "test")
                ) { Logger(label: $0) }
                _ = try engine.run()
            } catch {
                running.record(error)
            }
        }
        thread.start()
        return running
    }

    /// The engine and timed work together, as the daemon runs them (a `Supervisor`), `--once`.
    public func runSupervisedOnce(_ name: String, _ configured: ConfiguredDriver) async throws {
        let running = startSupervised(name, configured, once: true)
        try await running.finished()
    }

    /// The engine and timed work together in daemon mode (or `--once`), until `stop()`.
    public func startSupervised(_ name: String, _ configured: ConfiguredDriver, once: Bool = false) -> RunningSupervisor {
        let control = EngineControl()
        let settings = settings, modules = modules
        let task = Task {
            let supervisor = Supervisor(databasePath: settings.database, modules: modules, logger: Logger(label: "test")) { Logger(label: $0) }
            let database = try Store.openWriter(path: settings.database, modules: modules)
            defer {
                supervisor.close()
                try? database.close()
            }
            _ = try await supervisor.run(
                settings: settings, database: database, drivers: [(name: name, configured: configured)], options: EngineOptions(once: once),
                control: control)
        }
        return RunningSupervisor(control: control, task: task)
    }

    /// Reads through a reader, as the report does: a test polling while a daemon runs never opens
    /// a second writer, whose migration check could race the daemon's own and lose the lock.
    /// Throws until the daemon has created and migrated the database.
    public func count(_ sql: String) throws -> Int {
        try Store.openReader(path: settings.database, modules: modules).read { db in try Int.fetchOne(db, sql: sql) ?? -1 }
    }
}

/// An engine running in daemon mode on its own thread.
public final class RunningEngine: @unchecked Sendable {
    public let control = EngineControl()
    let finished = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var failure: (any Error)?

    func record(_ error: any Error) { lock.withLock { failure = error } }

    private var stopped = false

    /// Asks it to commit and stop, waits, and rethrows what made it fail, if anything did. Safe to
    /// call again (a test's `defer` after its own stop): it then only rethrows.
    public func stop() throws {
        control.requestStop()
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        if first { finished.wait() }
        if let failure = lock.withLock({ failure }) { throw failure }
    }
}

/// A `Supervisor` run started by `DriverHarness.startSupervised`.
public struct RunningSupervisor: Sendable {
    public let control: EngineControl
    let task: Task<Void, any Error>

    /// Waits for it to end by itself (`--once`), rethrowing its failure.
    public func finished() async throws { try await task.value }

    /// Asks it to commit and stop, and waits.
    public func stop() async throws {
        control.requestStop()
        try await task.value
    }
}
