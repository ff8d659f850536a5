import Foundation
import GRDB
import Logging
import Synchronization

/// Runs one configuration: the engine on a thread of its own, and each enabled driver's timed work
/// as a task beside it. What must outlive a reload lives here for the whole process: the engine's
/// health board, the leases of checks still running, the timed work's own database connection and
/// its command runner.
///
/// Why one place: the daemon, `--once` and the tests all need "the engine plus the timed work,
/// started together, stopped together"; written once, a reload cannot forget one of them.
public final class Supervisor: Sendable {
    /// What the engine last saw of each log driver; timed work reads it.
    public let health: EngineHealth
    private let leases = WorkLeases()
    private let databasePath: String
    private let modules: [MigrationSet]
    private let logger: Logger
    private let driverLogger: @Sendable (String) -> Logger
    private let commands: CommandRunner
    /// Opened when timed work first runs; kept across reloads, since a check that outlives its
    /// configuration still records its result through it.
    private let timedDatabase = Mutex<DatabaseQueue?>(nil)
    /// One thread runs every configuration's engine in turn, as one did before reloads went
    /// through here: a thread per reload measured 8 MiB more resident memory at each SIGHUP (its
    /// stack and malloc arena kept by the C library).
    private let engineThread = EngineThread()

    /// `health`: the board to write to (the daemon hands in the one its web page reads).
    public init(databasePath: String, modules: [MigrationSet], logger: Logger, health: EngineHealth = EngineHealth(), driverLogger: @escaping @Sendable (String) -> Logger) {
        self.health = health
        self.databasePath = databasePath
        self.modules = modules
        self.logger = logger
        self.driverLogger = driverLogger
        self.commands = CommandRunner(logger: logger)
    }

    /// Runs the engine on `database` and the timed work until the engine returns (caught up under
    /// `--once`, a stop, a reload). Timed work is then cancelled, except under `--once` without a
    /// stop, where its round is seen through. Timed work that cannot start is reported in the
    /// summaries, as a log driver that cannot start is.
    public func run(
        settings: EngineSettings, database: DatabaseQueue, drivers: [(name: String, configured: ConfiguredDriver)],
        options: EngineOptions, control: EngineControl
    ) async throws -> (exit: EngineExit, summaries: [DriverSummary]) {
        var works: [any TimedWork] = []
        var failures: [DriverSummary] = []
        for (name, configured) in drivers where configured.enabled {
            guard case .timed(_, let make) = configured.work else { continue }
            let log = driverLogger(name)
            do {
                let context = TimedContext(
                    settings: settings, logger: log, once: options.once, health: health, database: try openTimedDatabase(),
                    leases: leases, commands: commands)
                works.append(try make(context))
            } catch {
                log.error("not started: \(error)")
                failures.append(DriverSummary(driver: name, linesRead: 0, events: 0, ignored: 0, rejected: 0, failure: "\(error)"))
            }
        }
        let outcome = try await withThrowingTaskGroup(of: Void.self) { group in
            for work in works { group.addTask { await work.run() } }
            let engine: Result<(EngineExit, [DriverSummary]), any Error>
            do {
                engine = .success(try await runEngine(settings: settings, database: database, drivers: drivers, options: options, control: control))
            } catch {
                engine = .failure(error)
            }
            let seeRoundThrough = options.once && !control.stopRequested && (try? engine.get()) != nil
            if seeRoundThrough, !works.isEmpty {
                // `--once`: the round is seen through, unless a stop (SIGTERM) comes meanwhile.
                group.addTask {
                    while !control.stopRequested && !Task.isCancelled { try? await Task.sleep(for: .milliseconds(100)) }
                }
                var running = works.count + 1
                while running > 0, try await group.next() != nil {
                    running -= 1
                    // A stop, or only the watcher left: end what remains.
                    if control.stopRequested || running == 1 { group.cancelAll() }
                }
            } else {
                group.cancelAll()
            }
            try await group.waitForAll()
            return try engine.get()
        }
        return (outcome.0, outcome.1 + failures)
    }

    /// Waits up to 10 s for work still running (a check that outlived its round), sees queued
    /// commands through and closes the timed work's connection; call once, at exit. Work still
    /// running after that cannot record its result, and the log names it.
    public func close() {
        let unfinished = leases.waitForAll(seconds: 10)
        if !unfinished.isEmpty { logger.warning("still running at exit, their results not recorded: \(unfinished.joined(separator: ", "))") }
        if !commands.drain() { logger.warning("operators' commands still running at shutdown") }
        let database = timedDatabase.withLock { held -> DatabaseQueue? in
            defer { held = nil }
            return held
        }
        do { try database?.close() } catch { logger.error("closing the timed work's database connection: \(error)") }
        engineThread.finish()
    }

    private func openTimedDatabase() throws -> DatabaseQueue {
        try timedDatabase.withLock { held in
            if let held { return held }
            let opened = try Store.openWriter(path: databasePath, modules: modules)
            held = opened
            return opened
        }
    }

    /// The engine is built and run on the engine thread: its loop blocks in `poll()`.
    private func runEngine(
        settings: EngineSettings, database: DatabaseQueue, drivers: [(name: String, configured: ConfiguredDriver)],
        options: EngineOptions, control: EngineControl
    ) async throws -> (EngineExit, [DriverSummary]) {
        let health = self.health, logger = self.logger, driverLogger = self.driverLogger
        return try await withCheckedThrowingContinuation { continuation in
            engineThread.run {
                // The engine is gone (its commands drained, its statements released) before the
                // caller hears of it and perhaps closes the database.
                let result = Result { () throws -> (EngineExit, [DriverSummary]) in
                    let engine = try Engine(
                        settings: settings, database: database, drivers: drivers, options: options, control: control, health: health,
                        logger: logger, driverLogger: driverLogger)
                    return (try engine.run(), engine.summaries)
                }
                continuation.resume(with: result)
            }
        }
    }
}

/// A thread that runs one job at a time, for the life of the supervisor.
final class EngineThread: Sendable {
    private let jobs = Mutex<(queue: [@Sendable () -> Void], finished: Bool, started: Bool)>(([], false, false))
    private let ready = DispatchSemaphore(value: 0)

    func run(_ job: @escaping @Sendable () -> Void) {
        let start = jobs.withLock { state -> Bool in
            state.queue.append(job)
            defer { state.started = true }
            return !state.started
        }
        if start {
            let thread = Thread { [self] in loop() }
            thread.name = "tailwatch-engine"
            thread.stackSize = 8 << 20
            thread.start()
        }
        ready.signal()
    }

    /// Lets the thread end once its queue is empty.
    func finish() {
        jobs.withLock { $0.finished = true }
        ready.signal()
    }

    private func loop() {
        while true {
            ready.wait()
            let next: (@Sendable () -> Void)? = jobs.withLock { state in
                state.queue.isEmpty ? nil : state.queue.removeFirst()
            }
            if let next {
                next()
            } else if jobs.withLock({ $0.finished && $0.queue.isEmpty }) {
                return
            }
        }
    }
}
