import Foundation
import Logging
import TailWatchEngine

/// Checks one service once, on a thread of its own, and acts: a failed process check restarts at
/// once, failed socket checks restart when they reach the threshold; after a restart the service is
/// left alone for the grace period and checked again. Writes the service's log lines, run file and
/// notifications itself, so a slow neighbour never delays them; the caller records the
/// `CheckRecord` it returns.
struct ServiceChecker: Sendable {
    let log: ChkservdLog
    let runDirectory: String
    let notifyCommand: String?
    let notifyTimeout: Double
    let commands: CommandRunner
    let logger: Logger

    /// What a check weighs besides the service itself.
    struct Circumstances {
        /// A service this one depends on that is not up this round.
        var blockedBy: String?
        /// Restarts among its recent checks since the given moment, and their details (read only
        /// when a restart is due).
        var history: (_ since: Date?) -> (restarts: Int, lastDetails: [String])
    }

    /// One round for one service. Runs to the end even when its round is abandoned as hung (its
    /// lease keeps other checks of this service away meanwhile), so a restart it decided is seen
    /// through, logged and recorded.
    ///
    /// Judged in this order: within `restart_grace_seconds` of a restart it is not checked; while
    /// flapping it is checked and never restarted; up is up; down while a dependency is down is
    /// `blocked`; down within `startup_seconds` of a restart is `starting`; otherwise a failed
    /// process check, or socket checks failing `failure_threshold` times in a row, restart it —
    /// unless it was restarted `flap_restarts` times within its last `flap_rounds` checks, when it
    /// is `flapping` instead. The operator hears of each state change once: `failed`, `flapping`,
    /// `blocked`, and `recovered` when it is up again.
    func check(_ service: ServiceDefinition, state old: ServiceState, now: Date, _ circumstances: Circumstances) -> (CheckRecord, ServiceState) {
        var state = old
        let limits = service.limits
        if let restarted = old.lastRestart, now.timeIntervalSince(restarted) < limits.restartGrace {
            return (CheckRecord(time: now, service: service.name, status: old.status, socket: nil, process: nil, latency: nil, action: .grace,
                                detail: "restarted \(Int(now.timeIntervalSince(restarted))) s ago; grace period \(Int(limits.restartGrace)) s"), state)
        }
        // A hold that has lasted its quiet period ends; restarts count afresh from here.
        if let since = state.flappingSince, now.timeIntervalSince(since) >= limits.flapQuietSeconds {
            state.flappingSince = nil
            state.flapCountFrom = now
        }
        let first = probe(service)
        var parts = first.parts
        var record = CheckRecord(time: now, service: service.name, status: first.ok ? .up : .down, socket: first.socket?.ok,
                                 process: first.process, latency: first.socket?.seconds, action: .none, detail: first.detail)
        var notifications: [(String, String)] = []
        // A socket that answers ends a run of socket failures, whatever the process check said.
        if first.socket?.ok == true || first.ok { state.consecutiveFailures = 0 }
        var restartNow = false
        if let since = state.flappingSince {
            let left = Int(limits.flapQuietSeconds - now.timeIntervalSince(since))
            record.status = .flapping
            record.action = .held
            record.detail = (first.ok ? "answers again" : first.detail) + "; flapping: restarts held for \(left) s more"
            parts.append("flapping:held \(left)s")
        } else if first.ok {
            if state.notified != .none {
                notifications.append(("recovered", "\(service.name) is up again"))
                parts.append("notify:recovered service:\(service.name)")
                state.notified = .none
            }
        } else if let blocker = circumstances.blockedBy {
            record.status = .blocked
            record.action = .held
            record.detail = first.detail + "; \(blocker), which it depends on, is down: not restarted"
            parts.append("blocked by:\(blocker)")
            if state.notified != .blocked {
                notifications.append(("blocked", record.detail))
                parts.append("notify:blocked service:\(service.name)")
                state.notified = .blocked
            }
        } else if let restarted = state.lastRestart, now.timeIntervalSince(restarted) < limits.startupSeconds {
            let ago = Int(now.timeIntervalSince(restarted))
            record.action = .starting
            record.detail = first.detail + "; restarted \(ago) s ago, within its start-up period of \(Int(limits.startupSeconds)) s: not restarted again"
            parts.append("starting:\(ago)s")
        } else {
            restartNow = first.process == false
            if first.socket?.ok == false {
                state.consecutiveFailures += 1
                parts.append("socket failure threshold:\(state.consecutiveFailures)/\(limits.failureThreshold)")
                if state.consecutiveFailures >= limits.failureThreshold { restartNow = true }
            }
            if restartNow, !service.restart.isEmpty, limits.flapRestarts > 0 {
                let history = circumstances.history(state.flapCountFrom)
                if history.restarts >= limits.flapRestarts {
                    restartNow = false
                    state.flappingSince = now
                    record.status = .flapping
                    record.action = .held
                    let why = "restarted \(history.restarts) times within its last \(limits.flapRounds) checks and down again"
                    record.detail = first.detail + "; " + why + ": flapping, restarts held for \(Int(limits.flapQuietSeconds)) s"
                    parts.append("flapping")
                    notifications.append(("flapping", "\(why): restarts held for \(Int(limits.flapQuietSeconds)) s (or until a reload); now: \(first.detail); before: " + history.lastDetails.joined(separator: " | ")))
                    parts.append("notify:flapping service:\(service.name)")
                    state.notified = .flapping
                }
            }
            if restartNow, state.notified != .failed {
                notifications.append(("failed", first.detail))
                parts.append("notify:failed service:\(service.name)")
                state.notified = .failed
            }
        }
        log.write(["\(log.stamp()) Service check ....\(service.name) [\(parts.map { "[\($0)]" }.joined())]...\(first.ok ? "Done" : "Failed")"])
        for (status, detail) in notifications { notify(service.name, status, detail) }
        if restartNow {
            if service.restart.isEmpty {
                record.detail += "; no restart command"
            } else {
                record.action = .restart
                let (ok, output) = restart(service)
                var lines = ["\(log.stamp()) Restarting \(service.name)....\(ok ? "Done" : "Failed")"]
                if !output.isEmpty { lines.append(output.split(whereSeparator: \.isNewline).prefix(10).map { "    " + $0 }.joined(separator: "\n")) }
                log.write(lines)
                state.lastRestart = Date()
                state.consecutiveFailures = 0
                if limits.restartGrace > 0 { Thread.sleep(forTimeInterval: limits.restartGrace) }
                let again = probe(service)
                record.status = again.ok ? .up : .down
                record.detail = first.detail + "; restart: " + (output.isEmpty ? (ok ? "ok" : "failed") : output) + "; after restart: " + (again.ok ? "up" : again.detail)
                var againParts = again.parts
                if again.ok {
                    againParts.append("notify:recovered service:\(service.name)")
                    state.notified = .none
                }
                log.write(["\(log.stamp()) Service check ....\(service.name) [\(againParts.map { "[\($0)]" }.joined())]...\(again.ok ? "Done" : "Failed")"])
                if again.ok { notify(service.name, "recovered", "\(service.name) is up again after a restart (\(output.isEmpty ? "ok" : output))") }
            }
        }
        state.status = record.status
        RunFiles.write(record.status, service: service.name, folder: runDirectory, logger: logger)
        record.detail = String(record.detail.prefix(1024))
        return (record, state)
    }

    struct Probe {
        var ok: Bool
        var process: Bool?
        var socket: SocketProbe.Outcome?
        var parts: [String]
        var detail: String
    }

    /// The process check (if any) and the socket check (if any).
    func probe(_ service: ServiceDefinition) -> Probe {
        var parts: [String] = []
        var details: [String] = []
        var processOK: Bool? = nil
        if let pattern = service.process {
            let ok = pattern.isSatisfied(by: ProcessTable.snapshot().owned(by: service.owners))
            processOK = ok
            parts.append("check command:\(ok ? "+" : "-")")
            if !ok { details.append("no process matching '\(pattern)'" + (service.owners.isEmpty ? "" : " owned by \(service.owners.joined(separator: "|"))")) }
        }
        var socket: SocketProbe.Outcome? = nil
        if service.hasSocketCheck {
            let outcome = SocketProbe(service).run()
            socket = outcome
            parts.append("socket connect:\(outcome.ok ? "+" : "-")")
            if !outcome.ok { details.append(outcome.detail) }
        }
        return Probe(ok: (processOK ?? true) && (socket?.ok ?? true), process: processOK, socket: socket, parts: parts, detail: details.joined(separator: "; "))
    }

    /// Runs the restart commands in order; stops at the first that fails.
    private func restart(_ service: ServiceDefinition) -> (Bool, String) {
        var output = ""
        for command in service.restart {
            do {
                let result = try BoundedCommand.shell(command, timeout: service.limits.restartTimeout, outputLimit: 2048)
                output += result.output.trimmingCharacters(in: .whitespacesAndNewlines)
                if result.truncated { output += "…" }
                guard result.succeeded else {
                    let why = result.timedOut ? "timed out after \(Int(service.limits.restartTimeout)) s" : "exit status \(result.exitStatus.map(String.init) ?? "signal")"
                    logger.warning("restart of \(service.name): '\(command)' \(why)")
                    return (false, (output.isEmpty ? "" : output + " ") + "(\(command): \(why))")
                }
            } catch {
                logger.error("restart of \(service.name): \(error)")
                return (false, "\(error)")
            }
        }
        return (true, String(output.prefix(1024)))
    }

    /// Queued on the engine's `CommandRunner`: a slow hook never delays the check or the restart.
    func notify(_ service: String, _ status: String, _ detail: String) {
        guard let command = notifyCommand else { return }
        commands.run(command, [service, status, detail], timeout: notifyTimeout, what: "notify_command for \(service) \(status)")
    }
}

/// cPanel's run files: `RUN_DIR/NAME` holding `+`, `-` or `?`.
enum RunFiles {
    static func write(_ status: ServiceStatus, service: String, folder: String, logger: Logger) {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try AtomicFile.write(status.mark, to: folder + "/" + service, mode: 0o644)
        } catch {
            logger.warning("run file for \(service) not written: \(error)")
        }
    }
}
