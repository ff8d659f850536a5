import Foundation
import Logging
import Synchronization
import TailWatchEngine

/// chkservd as timed work: every `interval_seconds` a round checks each monitored service (cPanel's
/// `/etc/chkserv.d`), restarts what is down, logs the round, writes run files and records one row
/// per service in `service_checks`; and, in the daemon, checks TailWatch itself (the `tailwatchd`
/// pseudo-service) from the engine's health board.
///
/// Scheduling: rounds follow one another, never overlap, and start every interval (at once when the
/// last took longer). Each service is checked on a thread of its own (`BlockingWork`: probes block
/// on sockets, restarts on commands), awaited by the round, so a hung service costs only its own
/// timeouts. A round still running after two intervals is abandoned: its unfinished services are
/// recorded as `hung`, their checks run on (every wait in them has a timeout) and record their own
/// late results; until they do, their leases keep later rounds, also after a reload, from checking
/// them again. Each result is committed on its own, through the timed work's connection.
public final class ChkservdRounds: TimedWork {
    private let settings: ChkservdSettings
    private let logger: Logger
    private let once: Bool
    private let health: EngineHealth
    private let leases: WorkLeases
    private let clock: @Sendable () -> Date
    private let log: ChkservdLog
    private let checker: ServiceChecker
    private let store: ServiceRecords
    /// Services whose check was abandoned with its round: their late result says so.
    private let abandoned = Mutex(Set<String>())

    public static let name = "chkservd"

    public static let descriptor = DriverDescriptor(
        name: name, version: "1.1.0",
        summary: "checks services every few minutes (TCP/Unix send-expect, processes), restarts what is down (tailwatch-report services)",
        migrations: MigrationSet(module: "Chkservd", files: embeddedMigrationFiles)
    ) { section, engine throws(ConfigError) in
        let settings = try ChkservdSettings(section)
        return ConfiguredDriver(enabled: settings.enabled, retention: retention(settings)) { context in
            ChkservdRounds(settings: settings, context: context)
        }
    }

    /// `service_checks` rows older than `keep_days` (0 keeps them all).
    static func retention(_ settings: ChkservdSettings) -> [RetentionRule] {
        guard settings.keepDays > 0 else { return [] }
        let keep = Int64(settings.keepDays) * 86400
        return [RetentionRule(label: "service check rows", table: "service_checks", column: "time") { Int64($0.timeIntervalSince1970) - keep }]
    }

    public init(settings: ChkservdSettings, context: TimedContext, clock: @escaping @Sendable () -> Date = Date.init) {
        self.settings = settings
        self.logger = context.logger
        self.once = context.once
        self.health = context.health
        self.leases = context.leases
        self.clock = clock
        log = ChkservdLog(path: settings.log)
        store = ServiceRecords(database: context.database, logger: context.logger)
        checker = ServiceChecker(
            log: log, runDirectory: settings.runDirectory, notifyCommand: settings.notifyCommand,
            notifyTimeout: Double(settings.notifyTimeoutSeconds), commands: context.commands, logger: context.logger)
    }

    public func run() async {
        if !once {
            // The daemon started or reloaded (`--enable`, SIGHUP): the operator acted, so every
            // flap hold is lifted and the services are judged afresh.
            let lifted = store.liftFlapHolds(now: clock())
            if !lifted.isEmpty { logger.notice("flap holds lifted by the start or reload: \(lifted.joined(separator: ", "))") }
        }
        let interval = Duration.seconds(settings.intervalSeconds)
        var next = ContinuousClock.now
        while !Task.isCancelled {
            next = max(next + interval, .now)
            await round()
            if once { return }
            try? await Task.sleep(until: next, clock: .continuous)
        }
    }

    // MARK: A round

    private func round() async {
        let now = clock()
        store.retryUnrecorded()
        let catalog = ServiceCatalog.load(directory: settings.configDirectory, defaults: settings.limits)
        var lines = ["\(log.stamp(now)) Service Check Started"]
        var problems = catalog.problems
        var services: [ServiceDefinition] = []
        for service in catalog.services {
            guard leases.take(leaseKey(service.name)) else {
                problems.append("\(service.name): still being checked since an earlier round; skipped this round")
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
        forgetUnmonitored(keeping: Set(catalog.services.map(\.name)).union([SelfCheck.serviceName]))
        if !once { checkSelf(now: now) }

        let started = ContinuousClock.now
        let deadline = started + .seconds(2 * settings.intervalSeconds)
        var outcome: [String: ServiceStatus] = [:]
        var missing: [String] = []
        var notStarted: [String] = []
        // Dependencies first: each level's services are checked side by side once the levels
        // before it are done, so a dependency is restarted (once) before what needs it is judged.
        for level in DependencyOrder.levels(of: services, monitored: Set(catalog.services.map(\.name)), problems: { problem in
            logger.warning("\(problem)")
            log.write(["\(log.stamp(now)) \(problem)"])
        }) {
            guard !Task.isCancelled, ContinuousClock.now < deadline else {
                // Out of time (or stopping): these were never started.
                for service in level { leases.release(leaseKey(service.name)) }
                notStarted += level.map(\.name)
                continue
            }
            let finished = await checkSideBySide(level, now: now, until: deadline, blockedBy: { service in
                service.dependsOn.first { name in outcome[name].map { $0 != .up } ?? false }
            })
            for service in level {
                if let status = finished[service.name] { outcome[service.name] = status } else { missing.append(service.name) }
            }
        }
        if !notStarted.isEmpty, !Task.isCancelled {
            let seconds = Int(started.duration(to: .now).components.seconds)
            for name in notStarted {
                recordUnchecked(name, time: now, detail: "not checked: the services it depends on took the round's \(seconds) s")
            }
            logger.error("chkservd round ran out of time before checking: \(notStarted.joined(separator: ", "))")
        }
        if missing.isEmpty && notStarted.isEmpty {
            log.write(["\(log.stamp()) Service Check Finished"])
            logger.debug("chkservd round of \(services.count) service(s) took \(started.duration(to: .now))")
        } else if Task.isCancelled {
            logger.info("round interrupted (reload or stop); still running, to record their own results: \(missing.joined(separator: ", "))")
        } else if !missing.isEmpty {
            abandon(missing, started: now, seconds: Int(started.duration(to: .now).components.seconds))
        }
    }

    /// Checks `services` at once; what each finished with, by name. Those not finished by
    /// `deadline` (or when the task is cancelled) are left out; their checks run on.
    private func checkSideBySide(
        _ services: [ServiceDefinition], now: Date, until deadline: ContinuousClock.Instant, blockedBy: (ServiceDefinition) -> String?
    ) async -> [String: ServiceStatus] {
        var finished: [String: ServiceStatus] = [:]
        await withTaskGroup(of: (String, ServiceStatus)?.self) { group in
            for service in services {
                let blocker = blockedBy(service)
                group.addTask { await self.check(service, now: now, blockedBy: blocker) }
            }
            // The round's deadline: it answers nil, as a check cancelled does.
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return nil
            }
            while finished.count < services.count, let next = await group.next(), let (name, status) = next {
                finished[name] = status
            }
            group.cancelAll()
        }
        return finished
    }

    /// Also names the work in the log when it is still running at exit.
    private func leaseKey(_ service: String) -> String { "chkservd check of \(service) (\(settings.configDirectory))" }

    /// Checks one service on a thread of its own and records the result there (a late one too);
    /// its name once done, nil when the round stopped waiting for it.
    private func check(_ service: ServiceDefinition, now: Date, blockedBy: String?) async -> (String, ServiceStatus)? {
        let key = leaseKey(service.name)
        let store = self.store
        return await BlockingWork.run(name: "chkservd \(service.name)") { [self] in
            defer { leases.release(key) }
            let state = store.state(of: service.name)
            let circumstances = ServiceChecker.Circumstances(blockedBy: blockedBy) { since in
                store.history(of: service.name, rounds: service.limits.flapRounds, since: since)
            }
            var (record, newState) = checker.check(service, state: state, now: now, circumstances)
            if abandoned.withLock({ $0.remove(service.name) }) != nil {
                record.detail = "(finished after its round was abandoned) " + record.detail
            }
            store.record(record, newState)
            return (service.name, record.status)
        }
    }

    /// Records the services a round has not finished as `hung`, so that the next round can start.
    private func abandon(_ missing: [String], started: Date, seconds: Int) {
        let now = clock()
        var lines: [String] = []
        for name in missing {
            abandoned.withLock { _ = $0.insert(name) }
            recordUnchecked(name, time: started, detail: "check still running after \(seconds) s; round abandoned")
            lines.append("\(log.stamp(now)) Service check ....\(name) [[hung:\(seconds)s]]...Abandoned")
        }
        logger.error("chkservd round of \(ISO8601DateFormatter().string(from: started)) hung after \(seconds) s; still running: \(missing.joined(separator: ", "))")
        log.write(lines)
    }

    /// A service the round has no result for: a `hung` row, status and run file unknown.
    private func recordUnchecked(_ name: String, time: Date, detail: String) {
        var state = store.state(of: name)
        state.status = .unknown
        store.record(CheckRecord(time: time, service: name, status: .unknown, socket: nil, process: nil, latency: nil, action: .hung, detail: detail), state)
        RunFiles.write(.unknown, service: name, folder: settings.runDirectory, logger: logger)
    }

    /// Services no longer monitored leave the status table and the run folder (cPanel's manual
    /// clean-up of `/var/run/chkservd/NAME`, done for the operator).
    private func forgetUnmonitored(keeping: Set<String>) {
        for name in store.knownServices() where !keeping.contains(name) && !leases.isHeld(leaseKey(name)) {
            store.forget(name)
            try? FileManager.default.removeItem(atPath: settings.runDirectory + "/" + name)
        }
    }

    /// The `tailwatchd` pseudo-service, from the engine's health board.
    private func checkSelf(now: Date) {
        let name = SelfCheck.serviceName
        let result = SelfCheck.check(health, maxBehind: settings.maxBehindBytes, now: now)
        var state = store.state(of: name)
        var parts = result.parts.isEmpty ? ["drivers:+"] : result.parts
        if result.ok, state.notified != .none {
            parts.append("notify:recovered service:\(name)")
            state.notified = .none
            checker.notify(name, "recovered", "all drivers are keeping up")
        } else if !result.ok, state.notified != .failed {
            parts.append("notify:failed service:\(name)")
            state.notified = .failed
            checker.notify(name, "failed", result.detail)
        }
        state.status = result.ok ? .up : .down
        log.write(["\(log.stamp(now)) Service check ....\(name) [\(parts.map { "[\($0)]" }.joined())]...\(result.ok ? "Done" : "Failed")"])
        RunFiles.write(state.status, service: name, folder: settings.runDirectory, logger: logger)
        store.record(CheckRecord(time: now, service: name, status: state.status, socket: nil, process: nil, latency: nil,
                                 action: .none, detail: result.detail, passed: result.ok), state)
    }
}
