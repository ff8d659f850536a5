import GRDB
import Logging

/// Work a driver does on a clock instead of on log lines: chkservd's rounds of service checks.
///
/// Why not a `LogDriver`: such work tails no file, so as a log driver it returned `.ignored` for
/// lines it never got, ran its rounds from the engine's tick, kept raw threads of its own and a
/// process-wide table so that a round survived a reload. Here it is a task: `Supervisor` runs it
/// beside the engine, cancels it at a reload or a stop, and starts the new configuration's; what
/// outlives one configuration (checks still running) is held in the `WorkLeases` the supervisor
/// keeps for the whole process. It writes through a connection of its own (`TimedContext.database`),
/// so a check that takes minutes never holds the engine's transaction open.
public protocol TimedWork: Sendable {
    /// Runs until the task is cancelled; under `--once`, one round, then returns. Once cancelled
    /// it must return promptly: work it cannot interrupt (a blocking check) finishes on its own
    /// thread and records its result itself.
    func run() async
}

/// What timed work is given when its configuration starts.
public struct TimedContext: Sendable {
    public let settings: EngineSettings
    public let logger: Logger
    /// `--once`: one round, seen through, then return.
    public let once: Bool
    /// How the engine's log drivers are doing (chkservd's `tailwatchd` pseudo-service reads it).
    public let health: EngineHealth
    /// Its own connection to the database; the engine writes through another.
    public let database: DatabaseQueue
    /// Work still running from an earlier round or configuration, by key.
    public let leases: WorkLeases
    /// Runs operators' commands (notifications); drained when the supervisor stops.
    public let commands: CommandRunner

    public init(
        settings: EngineSettings, logger: Logger, once: Bool, health: EngineHealth, database: DatabaseQueue,
        leases: WorkLeases = WorkLeases(), commands: CommandRunner? = nil
    ) {
        self.settings = settings
        self.logger = logger
        self.once = once
        self.health = health
        self.database = database
        self.leases = leases
        self.commands = commands ?? CommandRunner(logger: logger)
    }
}
