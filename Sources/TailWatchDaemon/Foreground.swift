import FleetShipper
import Foundation
import GRDB
import Logging
import ServiceLifecycle
import TailWatchComposition
import TailWatchEngine
import UnixSignals

/// `--foreground` and `--once`: take the pid lock, open the database, and run the engine.
///
/// `--once` takes the same lock as the daemon: two processes reading the same logs into the same
/// database would each count every line.
struct Foreground {
    let command: DaemonCommand
    let configPath: String

    func run() async throws -> Int32 {
        let loaded = try LoadedConfiguration.load(path: configPath)
        let settings = loaded.settings
        let onTerminal = isatty(2) == 1
        let sink = try DaemonLogSink(path: settings.logFile, echoToStandardError: onTerminal && command.foreground)
        let level: Logger.Level = command.trace != nil ? .trace : command.debug ? .debug : .info
        let logger = sink.logger(label: "TailWatch", level: level)

        // A SIGHUP (an --enable, a logrotate) must neither end the daemon nor be lost: it is
        // trapped before the pid file names us (which is when `--start` returns and a caller may
        // signal us), and one that arrives before the engine runs waits in the sequence for it.
        let control = EngineControl()
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let pidFile = PidFile(path: settings.pidFile)
        if case .running(let pid) = try pidFile.acquire() {
            throw CommandFailure.runtime("tailwatchd is already running (pid \(pid)) with pid file \(settings.pidFile)\(command.once ? "; --once would count its lines twice" : "")")
        }
        defer { pidFile.release() }

        let database: DatabaseQueue
        do {
            database = try Store.openWriter(path: settings.database, modules: loaded.migrationSets)
        } catch {
            logger.error("\(error)")
            throw CommandFailure.runtime("\(error)")
        }
        // Close before the lock is released and the process exits: the engine's thread may still
        // hold the queue for a moment after it hands back its result, and a connection left open at
        // exit leaves its WAL behind uncheckpointed (and the -wal/-shm files on disk).
        defer {
            do { try database.close() } catch { logger.error("closing the database: \(error)") }
        }
        pidFile.publish()
        for refused in loaded.refusedCustomDrivers {
            logger.error("custom driver not loaded: \(refused)")
            if command.once { FileHandle.standardError.write(Data("tailwatchd: custom driver not loaded: \(refused)\n".utf8)) }
        }
        let options = EngineOptions(
            once: command.once, traceLines: command.trace ?? 0, debug: command.debug,
            showProgress: command.once && onTerminal)
        let health = EngineHealth()
        let runner = EngineRunner(
            configPath: loaded.file.path, initial: loaded, database: database, options: options, sink: sink,
            logger: logger, level: level, health: health)

        if command.once {
            let signals = Task {
                for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) { control.requestStop() }
            }
            defer { signals.cancel() }
            let summaries = try await runner.run(control: control)
            for s in summaries where s.failure == nil {
                print("\(s.driver): \(s.linesRead) lines read, \(s.events) events written, \(s.ignored) ignored, \(s.rejected) rejected")
            }
            // The others' lines are committed; the run still failed for the driver that did not start.
            let failures = summaries.compactMap { s in s.failure.map { "\(s.driver) not started: \($0)" } }
            for failure in failures { FileHandle.standardError.write(Data("tailwatchd: \(failure)\n".utf8)) }
            return failures.isEmpty ? 0 : 1
        }

        logger.info("tailwatchd \(TailWatchDaemonMain.version) started (pid \(getpid())), drivers: \(loaded.enabledDriverNames.joined(separator: ", ")), database \(settings.database)")

        let service = EngineService(runner: runner, control: control, hangups: hangups)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: service, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
        ]
        // After the writer opened (and migrated) the database, so the pages' readers find it current.
        if let web = WebService.make(loaded: loaded, health: health, logger: logger) {
            services.append(.init(service: web))
        }
        if let target = loaded.fleet.target {
            services.append(.init(service: FleetService(shipper: FleetShipper(
                target: target, databasePath: settings.database, modules: loaded.migrationSets, logger: logger,
                followed: FleetFollowedTables.now))))
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        do {
            try await group.run()
        } catch {
            logger.error("stopped on error: \(error)")
            throw CommandFailure.runtime("\(error)")
        }
        logger.info("tailwatchd stopped; all read lines are committed")
        return 0
    }
}

/// The daemon as a ServiceLifecycle service: graceful shutdown (SIGTERM/SIGINT) asks the engine to
/// commit and return; SIGHUP asks it to commit, re-read the configuration and go on.
struct EngineService: Service {
    let runner: EngineRunner
    let control: EngineControl
    /// SIGHUP, trapped since before the pid file was written.
    let hangups: UnixSignalsSequence

    func run() async throws {
        let control = self.control
        let hangups = self.hangups
        try await withGracefulShutdownHandler {
            // Ready for systemd (`Type=notify`): the configuration is good, the database open and
            // up to date, the pid file written, and SIGTERM handled (the group traps it before it
            // runs this); the engine starts reading now.
            SystemdNotify.send("READY=1\nMAINPID=\(getpid())")
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in hangups { control.requestReload() }
                }
                _ = try await runner.run(control: control)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            SystemdNotify.send("STOPPING=1")
            control.requestStop()
        }
    }
}

/// Runs the configuration through a `Supervisor` (the engine and the timed work), again after
/// each reload with the configuration read afresh.
final class EngineRunner: Sendable {
    let configPath: String
    let initial: LoadedConfiguration
    let database: DatabaseQueue
    let options: EngineOptions
    let sink: DaemonLogSink
    let logger: Logger
    let level: Logger.Level
    /// The engine's health board, shared with the web page.
    let health: EngineHealth

    init(configPath: String, initial: LoadedConfiguration, database: DatabaseQueue, options: EngineOptions, sink: DaemonLogSink, logger: Logger, level: Logger.Level, health: EngineHealth) {
        self.health = health
        self.configPath = configPath
        self.initial = initial
        self.database = database
        self.options = options
        self.sink = sink
        self.logger = logger
        self.level = level
    }

    func run(control: EngineControl) async throws -> [DriverSummary] {
        let supervisor = Supervisor(
            databasePath: initial.settings.database, modules: initial.migrationSets, logger: logger, health: health
        ) { [sink, level] name in sink.logger(label: name, level: level) }
        defer { supervisor.close() }
        var loaded = initial
        var options = options
        while true {
            let (exit, summaries) = try await supervisor.run(
                settings: loaded.settings, database: database, drivers: loaded.drivers, options: options, control: control)
            if exit == .finished { return summaries }
            options.traceLines = 0
            sink.reopen()
            do {
                let next = try LoadedConfiguration.load(path: configPath)
                for (key, old, new) in [("database", loaded.settings.database, next.settings.database),
                                        ("log_file", loaded.settings.logFile, next.settings.logFile),
                                        ("pid_file", loaded.settings.pidFile, next.settings.pidFile),
                                        ("[http] listen", loaded.http.listen.description, next.http.listen.description),
                                        ("[fleet]", loaded.fleet.description, next.fleet.description)] where old != new {
                    logger.warning("'\(key)' changed in \(configPath); the new path takes effect at the next --restart")
                }
                loaded = next
                for refused in loaded.refusedCustomDrivers { logger.error("custom driver not loaded: \(refused)") }
                logger.info("configuration reloaded; drivers: \(loaded.enabledDriverNames.joined(separator: ", "))")
            } catch {
                logger.error("reload failed, keeping the previous configuration: \(error)")
            }
        }
    }
}
