import Foundation

/// A service's status as chkservd shows it (and writes to its run file).
public enum ServiceStatus: String, Sendable, CaseIterable {
    case up, down, unknown
    /// Restarted `flap_restarts` times within its last `flap_rounds` checks and down again: no more
    /// restarts until `flap_quiet_seconds` have passed, the daemon reloads, or it is restarted.
    case flapping
    /// Down while a service it `depends` on is down: not restarted (the dependency is).
    case blocked

    /// cPanel's run-file marks (`-` for every way of being down).
    var mark: String {
        switch self {
        case .up: "+"
        case .down, .flapping, .blocked: "-"
        case .unknown: "?"
        }
    }
}

/// The last state change the operator was told of (through `notify_command`), so that one
/// outage is never announced twice.
public enum Notified: String, Sendable {
    /// Nothing outstanding: the last word was that it is up (or nothing was ever said).
    case none = ""
    case failed, flapping, blocked
}

/// What chkservd remembers about a service between rounds (and restarts of the daemon).
public struct ServiceState: Sendable, Equatable {
    public var status: ServiceStatus = .unknown
    /// Socket checks failed in a row, towards the failure threshold.
    public var consecutiveFailures = 0
    public var lastRestart: Date?
    /// The last notification that went out and is not yet answered by a `recovered`.
    public var notified = Notified.none
    /// Flapping since then: restarts are held until `flap_quiet_seconds` later.
    public var flappingSince: Date?
    /// Restarts before this moment do not count towards flapping (a hold ended or was lifted).
    public var flapCountFrom: Date?

    public init() {}
}

/// One row of `service_checks`: one service in one round.
public struct CheckRecord: Sendable, Equatable {
    public enum Action: String, Sendable {
        case none
        /// Restart commands ran (then the service was checked again after the grace period).
        case restart
        /// Within the grace period after a restart: not checked.
        case grace
        /// Down within its start-up period after a restart: not restarted again, not counted
        /// towards the failure threshold.
        case starting
        /// A restart was due and withheld: the service is flapping, or a dependency is down.
        case held
        /// The round outlived two intervals; this service's check was abandoned.
        case hung
    }

    public var time: Date
    public var service: String
    /// The status after this round (after a restart and re-check, when there was one).
    public var status: ServiceStatus
    /// The first socket check of the round (nil: none configured or not checked).
    public var socket: Bool?
    /// The first process check of the round.
    public var process: Bool?
    public var latency: Double?
    public var action: Action
    /// Why it failed ("connect: Connection refused"), what the restart said (bounded).
    public var detail: String
    /// Whether the round's first check passed: both checks that ran passed; a hung round failed;
    /// nil when not checked (grace).
    public var passed: Bool?

    public init(time: Date, service: String, status: ServiceStatus, socket: Bool?, process: Bool?, latency: Double?, action: Action, detail: String, passed: Bool? = nil) {
        self.time = time
        self.service = service
        self.status = status
        self.socket = socket
        self.process = process
        self.latency = latency
        self.action = action
        self.detail = detail
        switch action {
        case .grace: self.passed = passed
        case .hung: self.passed = passed ?? false
        default: self.passed = passed ?? ((socket ?? true) && (process ?? true))
        }
    }
}
