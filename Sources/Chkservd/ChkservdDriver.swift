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
    private var states: [String: ServiceState] = [:]
    private var round: Round?
    private var nextRound = Date.distantPast
    private var ranOnce = false
    private var lastPurge = Date.distantPast
    private var insert: PreparedStatement?
    private var saveState: PreparedStatement?

    public static let name = "chkservd"

    public static let descriptor = DriverDescriptor(
        name: name, version: "0.1.0",
        summary: "checks services every few minutes (TCP/Unix send-expect, processes), restarts what is down (tailwatch-report services)",
        migrations: MigrationSet(module: "Chkservd", files: embeddedMigrationFiles)
    ) { section, engine throws(ConfigError) in
        let settings = try ChkservdSettings(section)
        return ConfiguredDriver(enabled: settings.enabled, sources: []) { context in
            ChkservdDriver(settings: settings, context: context)
        }
    }

    public init(settings: ChkservdSettings, context: DriverContext, clock: @escaping @Sendable () -> Date = Date.init) {
        self.settings = settings
        self.logger = context.logger
        self.once = context.once
        self.health = context.health
        self.clock = clock
        log = ChkservdLog(path: settings.log)
        checker = ServiceChecker(
            log: log, runDirectory: settings.runDirectory, notifyCommand: settings.notifyCommand,
            notifyTimeout: Double(settings.notifyTimeoutSeconds), logger: context.logger)
    }

    public func open(_ db: Database) throws {
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

    public func close() {
        insert = nil
        saveState = nil
    }

    /// chkservd tails no file.
    public func ingest(_ line: ByteLine, from source: SourceFile) throws -> LineOutcome { .ignored }

    public func tick(_ db: Database, now _: Date) throws {
        let now = clock()
        if settings.keepDays > 0, now.timeIntervalSince(lastPurge) >= 3600 {
            lastPurge = now
            try db.execute(sql: "DELETE FROM service_checks WHERE time < ?", arguments: [Int64(now.timeIntervalSince1970) - Int64(settings.keepDays) * 86400])
        }
        if let round {
            let done = round.isDone // before taking: a result arriving in between waits for the next tick
            try store(round.take(), db)
            if done {
                finish(round)
            } else if now.timeIntervalSince(round.started) > 2 * Double(settings.intervalSeconds) {
                try abandon(round, db, now: now)
            }
        }
        guard round == nil, now >= nextRound, !(once && ranOnce) else { return }
        ranOnce = true
        nextRound = now.addingTimeInterval(Double(settings.intervalSeconds))
        let started = try startRound(db, now: now)
        if once {
            let done = started.wait(seconds: 2 * Double(settings.intervalSeconds))
            try store(started.take(), db)
            if done { finish(started) } else { try abandon(started, db, now: clock()) }
        }
    }

    // MARK: Rounds

    private func startRound(_ db: Database, now: Date) throws -> Round {
        let catalog = ServiceCatalog.load(directory: settings.configDirectory, defaults: settings.limits)
        var lines = ["\(log.stamp(now)) Service Check Started"]
        for problem in catalog.problems {
            logger.warning("\(problem)")
            lines.append("\(log.stamp(now)) \(problem)")
        }
        log.write(lines)
        if !once { try checkSelf(db, now: now) }
        let round = Round(started: now, services: catalog.services.map(\.name))
        self.round = round
        let checker = self.checker
        for service in catalog.services {
            let state = states[service.name] ?? ServiceState()
            let thread = Thread {
                let (record, newState) = checker.check(service, state: state, now: now, abandoned: { round.isCancelled })
                round.finish(record, newState)
            }
            thread.name = "chkservd \(service.name)"
            thread.start()
        }
        return round
    }

    private func finish(_ round: Round) {
        log.write(["\(log.stamp()) Service Check Finished (\(round.services.count) service(s) in \(String(format: "%.1f", clock().timeIntervalSince(round.started))) s)"])
        self.round = nil
    }

    /// Records the services a round never finished as `hung` (their threads' late results are
    /// dropped), so that the next round can start.
    private func abandon(_ round: Round, _ db: Database, now: Date) throws {
        let missing = round.cancel()
        try store(round.take(), db) // results that arrived since the last take
        var lines: [String] = []
        var results: [(CheckRecord, ServiceState)] = []
        for name in missing {
            var state = states[name] ?? ServiceState()
            state.status = .unknown
            let seconds = Int(now.timeIntervalSince(round.started))
            results.append((CheckRecord(time: round.started, service: name, status: .unknown, socket: nil, process: nil, latency: nil,
                                        action: .hung, detail: "check still running after \(seconds) s; round abandoned"), state))
            lines.append("\(log.stamp(now)) Service check ....\(name) [[hung:\(seconds)s]]...Abandoned")
            RunFiles.write(.unknown, service: name, folder: settings.runDirectory, logger: logger)
        }
        logger.error("chkservd round of \(ISO8601DateFormatter().string(from: round.started)) hung; abandoned: \(missing.joined(separator: ", "))")
        log.write(lines)
        try store(results, db)
        self.round = nil
    }

    /// The `tailwatchd` pseudo-service, checked on the engine's thread from its health board.
    private func checkSelf(_ db: Database, now: Date) throws {
        let name = SelfCheck.serviceName
        let result = SelfCheck.check(health, maxBehind: settings.maxBehindBytes, except: Self.name, now: now)
        var state = states[name] ?? ServiceState()
        var parts = result.parts
        if result.ok, state.failureNotified {
            parts.append("notify:recovered service:\(name)")
            state.failureNotified = false
            notifyAsync(name, "recovered", "all drivers are keeping up")
        } else if !result.ok, !state.failureNotified {
            parts.append("notify:failed service:\(name)")
            state.failureNotified = true
            notifyAsync(name, "failed", result.detail)
        }
        state.status = result.ok ? .up : .down
        log.write(["\(log.stamp(now)) Service check ....\(name) [\(parts.map { "[\($0)]" }.joined())]...\(result.ok ? "Done" : "Failed")"])
        RunFiles.write(state.status, service: name, folder: settings.runDirectory, logger: logger)
        try store([(CheckRecord(time: now, service: name, status: state.status, socket: nil, process: nil, latency: nil,
                                action: .none, detail: result.detail), state)], db, passed: result.ok)
    }

    private func notifyAsync(_ service: String, _ status: String, _ detail: String) {
        let checker = self.checker
        Thread { checker.notify(service, status, detail) }.start()
    }

    private func store(_ results: [(CheckRecord, ServiceState)], _ db: Database, passed explicit: Bool? = nil) throws {
        guard let insert, let saveState else { return }
        for (record, state) in results {
            let passed: Bool? = explicit ?? {
                switch record.action {
                case .grace, .hung: return nil
                default: return (record.socket ?? true) && (record.process ?? true)
                }
            }()
            insert.bind(1, Int64(record.time.timeIntervalSince1970))
            insert.bind(2, record.service)
            insert.bind(3, record.status.rawValue)
            insert.bind(4, passed.map { $0 ? 1 : 0 } as Int64?)
            insert.bind(5, record.socket.map { $0 ? 1 : 0 } as Int64?)
            insert.bind(6, record.process.map { $0 ? 1 : 0 } as Int64?)
            insert.bind(7, record.latency.map { Int64(($0 * 1000).rounded()) })
            insert.bind(8, record.action.rawValue)
            insert.bind(9, record.detail)
            try insert.run()
            saveState.bind(1, record.service)
            saveState.bind(2, state.status.rawValue)
            saveState.bind(3, Int64(state.consecutiveFailures))
            saveState.bind(4, state.lastRestart.map { Int64($0.timeIntervalSince1970) })
            saveState.bind(5, Int64(state.failureNotified ? 1 : 0))
            saveState.bind(6, Int64(record.time.timeIntervalSince1970))
            try saveState.run()
            states[record.service] = state
        }
    }
}

/// One round's services and the results their threads hand back.
final class Round: @unchecked Sendable {
    let started: Date
    let services: [String]
    private let lock = NSLock()
    private var results: [(CheckRecord, ServiceState)] = []
    private var finished = Set<String>()
    private var cancelled = false
    private let allFinished = DispatchSemaphore(value: 0)

    init(started: Date, services: [String]) {
        self.started = started
        self.services = services
        if services.isEmpty { allFinished.signal() }
    }

    var isCancelled: Bool { lock.withLock { cancelled } }
    var isDone: Bool { lock.withLock { finished.count == services.count } }

    func finish(_ record: CheckRecord, _ state: ServiceState) {
        let last: Bool = lock.withLock {
            guard !cancelled else { return false }
            results.append((record, state))
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

    /// Stops accepting results; returns the services that never reported.
    func cancel() -> [String] {
        lock.withLock {
            cancelled = true
            return services.filter { !finished.contains($0) }
        }
    }
}
