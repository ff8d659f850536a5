import Foundation
import GRDB
import Logging

/// A driver as the engine runs it: it reads lines, applies their effect to the open batch
/// transaction, and writes what it aggregated when the batch commits.
///
/// Guarantees the engine gives:
/// - the driver is built on the engine's thread with the database connection it will write to
///   (`ConfiguredDriver.make`), so what it prepares there can be `let`; then every call happens on
///   that thread: any number of `ingest`/`flush`/`rollback`/`tick`, then `close`;
/// - `ingest` is only called inside an open write transaction on that connection,
///   and the positions of the lines it was given commit in the same transaction as its writes and
///   whatever `flush` writes, or none of them do;
/// - after a failed commit the engine calls `rollback()`, rewinds the files to their committed
///   positions and hands the same lines again later;
/// - after `ingest(_ block:)`, `settle()` is called before anything else uses the connection: the
///   next line, another driver's block, a commit (`flush`), a tick, a rollback. Only this driver's
///   next block may come first.
///
/// What a driver must guarantee: `ingest` never throws for bad input (it returns `.rejected`), only
/// for a database failure; it keeps nothing from a `ByteLine` past the call without copying it.
public protocol LogDriver: AnyObject {
    /// One complete line (without its newline) from `source`, inside the open transaction.
    func ingest(_ line: ByteLine, from source: SourceFile) throws -> LineOutcome
    /// The complete lines of one read of `source`, inside the open transaction. The default hands
    /// each to `ingest(_:from:)`; a driver whose lines are many and cheap walks the block itself
    /// (lines it leaves in the block are then handed to `ingest(_:from:)` one by one).
    func ingest(_ block: inout LineBlock, from source: SourceFile) throws
    /// Completes the work `ingest(_ block:)` left running on another thread (rows still being
    /// written: `PipelinedWalk`), so that the engine or another driver may use the connection.
    /// Throws that work's failure (the batch is then rolled back).
    func settle() throws
    /// Writes what the batch aggregated in memory; called inside the commit's transaction.
    func flush(_ db: Database) throws
    /// Forgets what was ingested since the last successful commit.
    func rollback()
    /// Periodic work (rollups, reconciling); called inside a transaction of its own about every second.
    func tick(_ db: Database, now: Date) throws
    /// What the driver keeps only for a while; the engine purges it after the tick, in slices.
    var retention: [RetentionRule] { get }
    /// Releases statements; called once, outside a transaction.
    func close()
    /// False while the driver cannot take lines (an external driver's program waits to be
    /// restarted): the engine leaves its files where they are and reads the other drivers' on.
    var acceptsLines: Bool { get }
}

public extension LogDriver {
    func ingest(_ block: inout LineBlock, from source: SourceFile) throws {
        while let line = block.next() { block.record(try ingest(line, from: source)) }
    }
    func settle() throws {}
    func flush(_ db: Database) throws {}
    func rollback() {}
    func tick(_ db: Database, now: Date) throws {}
    func close() {}
    var acceptsLines: Bool { true }
    var retention: [RetentionRule] { [] }
}

/// Everything a driver is given when the engine builds it on its own thread.
public struct DriverContext {
    public let settings: EngineSettings
    public let logger: Logger
    /// `--debug`: log a debug line for each event written.
    public let debug: Bool
    /// `--once`: the engine catches up, runs each driver's tick once, and stops.
    public let once: Bool
    /// The engine's view of every driver it runs, updated about once a second.
    public let health: EngineHealth
    /// Where effects outside the database that must follow the commit are registered.
    public let afterCommit: AfterCommit
    /// Runs operators' commands (notifications) off the engine's thread; drained when it stops.
    public let commands: CommandRunner

    public init(
        settings: EngineSettings, logger: Logger, debug: Bool, once: Bool = false, health: EngineHealth = EngineHealth(),
        afterCommit: AfterCommit? = nil, commands: CommandRunner? = nil
    ) {
        self.settings = settings
        self.logger = logger
        self.debug = debug
        self.once = once
        self.health = health
        self.afterCommit = afterCommit ?? AfterCommit(logger: logger)
        self.commands = commands ?? CommandRunner(logger: logger)
    }
}

/// A driver after its configuration table was read: whether it runs, and what it does: tail
/// logs (a `LogDriver`, built on the engine's thread) or work on a clock (a `TimedWork`, run beside
/// the engine by the `Supervisor`).
public struct ConfiguredDriver: Sendable {
    public enum Work: Sendable {
        /// `make` builds the driver after migrations, outside a transaction, on the connection it
        /// will write to (prepare statements and load state there).
        case lines(sources: [LogSource], make: @Sendable (DriverContext, Database) throws -> any LogDriver)
        /// `retention`: what the engine purges of its tables, as for a log driver's.
        case timed(retention: [RetentionRule], make: @Sendable (TimedContext) throws -> any TimedWork)
    }

    public let enabled: Bool
    public let work: Work

    /// A log driver tailing `sources`.
    public init(enabled: Bool, sources: [LogSource], make: @escaping @Sendable (DriverContext, Database) throws -> any LogDriver) {
        self.enabled = enabled
        self.work = .lines(sources: sources, make: make)
    }

    /// Timed work.
    public init(enabled: Bool, retention: [RetentionRule] = [], timed make: @escaping @Sendable (TimedContext) throws -> any TimedWork) {
        self.enabled = enabled
        self.work = .timed(retention: retention, make: make)
    }

    /// The logs it tails (none for timed work).
    public var sources: [LogSource] {
        if case .lines(let sources, _) = work { return sources }
        return []
    }
}

/// How a driver presents itself to the engine before it runs: name, version, schema, and how to read
/// its configuration table. The daemon registers these in one list; the engine knows none by name.
public struct DriverDescriptor: Sendable {
    /// The config table's name, the log label, and the key of its checkpoints.
    public let name: String
    public let version: String
    /// One line for `--version=long` and `--driver-docs`.
    public let summary: String
    public let migrations: MigrationSet
    public let configure: @Sendable (ConfigSection, EngineSettings) throws(ConfigError) -> ConfiguredDriver

    public init(
        name: String, version: String, summary: String, migrations: MigrationSet,
        configure: @escaping @Sendable (ConfigSection, EngineSettings) throws(ConfigError) -> ConfiguredDriver
    ) {
        self.name = name
        self.version = version
        self.summary = summary
        self.migrations = migrations
        self.configure = configure
    }
}
