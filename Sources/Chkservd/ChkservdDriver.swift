import Foundation
import GRDB
import Logging
import TailWatchEngine

/// The chkservd driver: every `interval_seconds` a round checks each monitored service (cPanel's
/// `/etc/chkserv.d`), restarts what is down, logs the round, writes run files and records one row
/// per service in `service_checks`, and checks TailWatch itself (the `tailwatchd` pseudo-service).
///
/// Scheduling: rounds start from the engine's tick (about every second), never overlap, and each
/// service is checked on a thread of its own, so a hung service costs only its own timeouts and the
/// log drivers never wait. Results are committed by a later tick, on the engine's thread. A round
/// still running after two intervals is abandoned: its unfinished services are recorded as `hung`.
/// Under `--once` the first tick runs one round and waits for it.
public final class ChkservdDriver: LogDriver {
    private let settings: ChkservdSettings
    private let logger: Logger
    private let once: Bool
    private let health: EngineHealth
    private let clock: @Sendable () -> Date
    private let log: ChkservdLog
    private let checker: ServiceChecker
    private let rounds: RoundRegistry
    private let afterCommit: AfterCommit
    private var states: [String: ServiceState] = [:]
    /// Results taken from rounds whose rows are not committed yet (retried after a failed tick).
    private var unsaved: [(CheckRecord, ServiceState)] = []
    private var nextRound = Deadline.distantPast
    private var ranOnce = false
    private var lastPurge = Deadline.distantPast
    private let insert: PreparedStatement
    private let saveState: PreparedStatement

    public static let name = "chkservd"

    public static let descriptor = DriverDescriptor(
        name: name, version: "1.0.0",
        summary: "checks services every few minutes (TCP/Unix send-expect, processes), restarts what is down (tailwatch-report services)",
        migrations: MigrationSet(module: "Chkservd", files: embeddedMigrationFiles)
    ) { section, engine throws(ConfigError) in
        let settings = try ChkservdSettings(section)
        return ConfiguredDriver(enabled: settings.enabled, sources: []) { context, db in
            try ChkservdDriver(settings: settings, context: context, db: db)
        }
    }

    /// `db`: the connection the engine writes with (statements are prepared on it).
    public init(settings: ChkservdSettings, context: DriverContext, db: Database, clock: @escaping @Sendable () -> Date = Date.init) throws {
        self.settings = settings
        self.logger = context.logger
        self.once = context.once
        self.health = context.health
        self.afterCommit = context.afterCommit
        self.clock = clock
        log = ChkservdLog(path: settings.log)
        checker = ServiceChecker(
            log: log, runDirectory: settings.runDirectory, notifyCommand: settings.notifyCommand,
            notifyTimeout: Double(settings.notifyTimeoutSeconds), commands: context.commands, logger: context.logger)
        rounds = RoundRegistry.for(database: context.settings.database, configDirectory: settings.configDirectory)
        insert = try PreparedStatement(db, sql: """
            INSERT INTO service_checks (time, service, status, passed, socket, process, latency_ms, action, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        saveState = try PreparedStatement(db, sql: """
            INSERT OR REPLACE INTO service_state (service, status, consecutive_failures, last_restart, failure_notified, last_check)
            VALUES (?, ?, ?, ?, ?, ?)
            """)
        for row in try Row.fetchAll(db, sql: "SELECT * FROM service_state") {
            var state = ServiceState()
            state.status = ServiceStatus(rawValue: row["status"]) ?? .unknown
            state.consecutiveFailures = row["consecutive_failures"]
            state.lastRestart = (row["last_restart"] as Int64?).map { Date(timeIntervalSince1970: Double($0)) }
            state.failureNotified = row["failure_notified"]
            states[row["service"]] = state
        }
    }

    /// chkservd tails no file.
    public func ingest(_ line: ByteLine, from source: SourceFile) throws -> LineOutcome { .ignored }

    /// `--once`'s last tick, after the catch-up: the round is seen through here, outside the
    /// tick's transaction (its checks may take minutes; nobody else could write meanwhile).
    public func beforeTick() {
        guard once && ranOnce else { return }
        for round in rounds.all where !round.isAbandoned {
            _ = round.wait(seconds: max(0, 2 * Double(settings.intervalSeconds) - round.startedAt.secondsAgo))
        }
    }

    public func tick(_ db: Database, now _: Date) throws {
        let now = clock()
        if settings.keepDays > 0, lastPurge.secondsAgo >= 3600 {
            lastPurge = .now
            try db.execute(sql: "DELETE FROM service_checks WHERE time < ?", arguments: [Int64(now.timeIntervalSince1970) - Int64(settings.keepDays) * 86400])
        }
        collect(now: clock())
        try saveUnsaved(db)
        guard !rounds.all.contains(where: { !$0.isAbandoned }), nextRound.hasPassed, !(once && ranOnce) else { return }
        ranOnce = true
        nextRound = .after(seconds: Double(settings.intervalSeconds))
        try startRound(db, now: now)
        try saveUnsaved(db)
    }

    // MARK: Rounds

    /// Takes what the rounds' threads finished; ends rounds that are complete; abandons a round
    /// that has run for two intervals.
    private func collect(now: Date) {
        for round in rounds.all {
            let done = round.isDone // before taking: a result arriving in between waits for the next tick
            let results = round.take()
            for (record, state) in results { states[record.service] = state }
            unsaved += results
            if done {
                if !round.isAbandoned {
                    log.write(["\(log.stamp()) Service Check Finished"])
                    logger.debug("chkservd round of \(round.services.count) service(s) took \(String(format: "%.1f", round.startedAt.secondsAgo)) s")
                }
                rounds.remove(round)
            } else if !round.isAbandoned, round.startedAt.secondsAgo > 2 * Double(settings.intervalSeconds) {
                abandon(round, now: now)
            }
        }
    }

    private func startRound(_ db: Database, now: Date) throws {
        let catalog = ServiceCatalog.load(directory: settings.configDirectory, defaults: settings.limits)
        var lines = ["\(log.stamp(now)) Service Check Started"]
        var problems = catalog.problems
        let busy = rounds.busyServices
        var services: [ServiceDefinition] = []
        for service in catalog.services {
            if busy.contains(service.name) {
                problems.append("\(service.name): still being checked by an abandoned round; skipped this round")
                continue
            }
            let worst = service.limits.worstCaseSeconds(restarts: service.restart.count)
            if worst > 2 * Double(settings.intervalSeconds) {
                problems.append("\(service.name): its timeouts add up to \(Int(worst)) s, more than two intervals (\(2 * settings.intervalSeconds) s); a slow round will be reported hung")
            }
            services.append(service)
        }
        for problem in problems {
            logger.warning("\(problem)")
            lines.append("\(log.stamp(now)) \(problem)")
        }
        log.write(lines)
        try forgetUnmonitored(db, keeping: Set(catalog.services.map(\.name)).union([SelfCheck.serviceName]))
        if !once { checkSelf(now: now) }
        let round = Round(started: now, services: services.map(\.name))
        rounds.add(round)
        let checker = self.checker
        for service in services {
            let state = states[service.name] ?? ServiceState()
            let thread = Thread {
                let (record, newState) = checker.check(service, state: state, now: now)
                round.finish(record, newState)
            }
            thread.name = "chkservd \(service.name)"
            thread.start()
        }
    }

    /// Services no longer monitored leave the status table and the run folder (cPanel's manual
    /// clean-up of `/var/run/chkservd/NAME`, done for the operator).
    private func forgetUnmonitored(_ db: Database, keeping: Set<String>) throws {
        let gone = states.keys.filter { !keeping.contains($0) && !rounds.busyServices.contains($0) }
        for name in gone {
            try db.execute(sql: "DELETE FROM service_state WHERE service = ?", arguments: [name])
            states[name] = nil
            try? FileManager.default.removeItem(atPath: settings.runDirectory + "/" + name)
        }
    }

    /// Records the services a round has not finished as `hung`, so that the next round can start;
    /// their threads carry on (every wait in a check has a timeout), their late results are
    /// recorded when they come, and no new check of those services starts until they do.
    private func abandon(_ round: Round, now: Date) {
        let missing = round.abandon()
        let seconds = Int(round.startedAt.secondsAgo)
        var lines: [String] = []
        for name in missing {
            var state = states[name] ?? ServiceState()
            state.status = .unknown
            states[name] = state
            unsaved.append((CheckRecord(time: round.started, service: name, status: .unknown, socket: nil, process: nil, latency: nil,
                                        action: .hung, detail: "check still running after \(seconds) s; round abandoned"), state))
            lines.append("\(log.stamp(now)) Service check ....\(name) [[hung:\(seconds)s]]...Abandoned")
            RunFiles.write(.unknown, service: name, folder: settings.runDirectory, logger: logger)
        }
        logger.error("chkservd round of \(ISO8601DateFormatter().string(from: round.started)) hung after \(seconds) s; still running: \(missing.joined(separator: ", "))")
        log.write(lines)
    }

    /// The `tailwatchd` pseudo-service, checked on the engine's thread from its health board.
    private func checkSelf(now: Date) {
        let name = SelfCheck.serviceName
        let result = SelfCheck.check(health, maxBehind: settings.maxBehindBytes, except: Self.name, now: now)
        var state = states[name] ?? ServiceState()
        var parts = result.parts.isEmpty ? ["drivers:+"] : result.parts
        if result.ok, state.failureNotified {
            parts.append("notify:recovered service:\(name)")
            state.failureNotified = false
            checker.notify(name, "recovered", "all drivers are keeping up")
        } else if !result.ok, !state.failureNotified {
            parts.append("notify:failed service:\(name)")
            state.failureNotified = true
            checker.notify(name, "failed", result.detail)
        }
        state.status = result.ok ? .up : .down
        states[name] = state
        log.write(["\(log.stamp(now)) Service check ....\(name) [\(parts.map { "[\($0)]" }.joined())]...\(result.ok ? "Done" : "Failed")"])
        RunFiles.write(state.status, service: name, folder: settings.runDirectory, logger: logger)
        unsaved.append((CheckRecord(time: now, service: name, status: state.status, socket: nil, process: nil, latency: nil,
                                    action: .none, detail: result.detail, passed: result.ok), state))
    }


    /// Writes the rows and states of `unsaved` not yet written in this transaction; they stay in
    /// `unsaved` until it commits, so a failed tick writes them again next time.
    private func saveUnsaved(_ db: Database) throws {
        guard savedUpTo < unsaved.count else { return }
        for (record, _) in unsaved[savedUpTo...] {
            insert.bind(1, Int64(record.time.timeIntervalSince1970))
            insert.bind(2, record.service)
            insert.bind(3, record.status.rawValue)
            insert.bind(4, record.passed.map { $0 ? 1 : 0 } as Int64?)
            insert.bind(5, record.socket.map { $0 ? 1 : 0 } as Int64?)
            insert.bind(6, record.process.map { $0 ? 1 : 0 } as Int64?)
            insert.bind(7, record.latency.map { Int64(($0 * 1000).rounded()) })
            insert.bind(8, record.action.rawValue)
            insert.bind(9, record.detail)
            try insert.run()
            // The state as it is now (a later result of the same service may already be in).
            let state = states[record.service] ?? ServiceState()
            saveState.bind(1, record.service)
            saveState.bind(2, state.status.rawValue)
            saveState.bind(3, Int64(state.consecutiveFailures))
            saveState.bind(4, state.lastRestart.map { Int64($0.timeIntervalSince1970) })
            saveState.bind(5, Int64(state.failureNotified ? 1 : 0))
            saveState.bind(6, Int64(record.time.timeIntervalSince1970))
            try saveState.run()
        }
        savedUpTo = unsaved.count
        // Once committed, the rows are done with; if the transaction fails, everything in
        // `unsaved` is written again at the next tick.
        afterCommit.add("chkservd: results saved", key: "chkservd.unsaved", ifDropped: { self.savedUpTo = 0 }) {
            self.unsaved.removeFirst(self.savedUpTo)
            self.savedUpTo = 0
        }
    }

    /// How many of `unsaved` the open transaction has written.
    private var savedUpTo = 0
}

/// One round's services and the results their threads hand back. Results are accepted until the
/// last thread reports, also after the round was abandoned as hung.
/// Unchecked: its results are under a lock; the service list is set before the threads start.
final class Round: @unchecked Sendable {
    /// When it started: stamped on the rows of checks it abandons.
    let started: Date
    /// The same moment on the monotonic clock, for the two-interval limit.
    let startedAt = Deadline.now
    let services: [String]
    private let lock = NSLock()
    private var results: [(CheckRecord, ServiceState)] = []
    private var finished = Set<String>()
    private var abandoned = false
    private let allFinished = DispatchSemaphore(value: 0)

    init(started: Date, services: [String]) {
        self.started = started
        self.services = services
        if services.isEmpty { allFinished.signal() }
    }

    var isAbandoned: Bool { lock.withLock { abandoned } }
    var isDone: Bool { lock.withLock { finished.count == services.count } }
    var unfinished: [String] { lock.withLock { services.filter { !finished.contains($0) } } }

    func finish(_ record: CheckRecord, _ state: ServiceState) {
        let last: Bool = lock.withLock {
            var r = record
            if abandoned { r.detail = "(finished after its round was abandoned) " + r.detail }
            results.append((r, state))
            finished.insert(record.service)
            return finished.count == services.count
        }
        if last { allFinished.signal() }
    }

    /// Results not yet taken.
    func take() -> [(CheckRecord, ServiceState)] {
        lock.withLock {
            defer { results.removeAll() }
            return results
        }
    }

    func wait(seconds: Double) -> Bool {
        allFinished.wait(timeout: .now() + seconds) == .success
    }

    /// Marks the round abandoned; returns the services that have not reported.
    func abandon() -> [String] {
        lock.withLock {
            abandoned = true
            return services.filter { !finished.contains($0) }
        }
    }
}

/// Rounds whose threads may still be running, per database and service folder, for the whole
/// process: a reload (SIGHUP) builds a new driver while the old one's round carries on, and the new
/// one must collect those results and not check the same services twice at once.
/// Unchecked: its rounds and the process-wide table are under locks.
final class RoundRegistry: @unchecked Sendable {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var registries: [String: RoundRegistry] = [:]

    static func `for`(database: String, configDirectory: String) -> RoundRegistry {
        lock.withLock {
            let key = database + "\u{0}" + configDirectory
            if let existing = registries[key] { return existing }
            let created = RoundRegistry()
            registries[key] = created
            return created
        }
    }

    private let lock = NSLock()
    private var rounds: [Round] = []

    var all: [Round] { lock.withLock { rounds } }
    func add(_ round: Round) { lock.withLock { rounds.append(round) } }
    func remove(_ round: Round) { lock.withLock { rounds.removeAll { $0 === round } } }
    var busyServices: Set<String> { Set(all.flatMap(\.unfinished)) }
}
