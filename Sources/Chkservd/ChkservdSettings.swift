import TailWatchEngine

/// The `[chkservd]` table of the configuration. The per-service limits here are defaults; a
/// service file can override them (see `ServiceDefinition.Limits`).
public struct ChkservdSettings: Sendable {
    public var enabled = true
    /// `chkservd.conf` and one file per service, in cPanel's format.
    public var configDirectory = "/etc/chkserv.d"
    public var intervalSeconds = 300
    public var log = "/var/log/chkservd.log"
    /// One file per service holding `+`, `-` or `?` (cPanel's `/var/run/chkservd`).
    public var runDirectory = "/var/run/chkservd"
    /// Run with service, status (`failed` or `recovered`) and details.
    public var notifyCommand: String?
    public var notifyTimeoutSeconds = 30
    public var limits = ServiceLimits()
    /// The `tailwatchd` pseudo-service is down when a log driver is further behind than this.
    public var maxBehindBytes: Int64 = 256 * 1024 * 1024
    /// Days of `service_checks` rows kept; 0 keeps them all.
    public var keepDays = 90

    public static let keys: Set<String> = [
        "enabled", "config_dir", "interval_seconds", "log", "run_dir", "notify_command", "notify_timeout_seconds",
        "failure_threshold", "connect_timeout_seconds", "read_timeout_seconds", "restart_timeout_seconds",
        "restart_grace_seconds", "startup_seconds", "flap_restarts", "flap_rounds", "flap_quiet_seconds", "max_behind_bytes", "keep_days",
    ]

    public init() {}

    public init(_ section: ConfigSection) throws(ConfigError) {
        try section.requireOnly(Self.keys)
        enabled = try section.bool("enabled") ?? section.isPresent
        if let v = try section.path("config_dir") { configDirectory = v }
        if let v = try section.integer("interval_seconds", in: 10...86400) { intervalSeconds = Int(v) }
        if let v = try section.path("log") { log = v }
        if let v = try section.path("run_dir") { runDirectory = v }
        notifyCommand = try section.path("notify_command")
        if let v = try section.integer("notify_timeout_seconds", in: 1...600) { notifyTimeoutSeconds = Int(v) }
        if let v = try section.integer("failure_threshold", in: 1...100) { limits.failureThreshold = Int(v) }
        if let v = try section.integer("connect_timeout_seconds", in: 1...600) { limits.connectTimeout = Double(v) }
        if let v = try section.integer("read_timeout_seconds", in: 1...3600) { limits.readTimeout = Double(v) }
        if let v = try section.integer("restart_timeout_seconds", in: 1...3600) { limits.restartTimeout = Double(v) }
        if let v = try section.integer("restart_grace_seconds", in: 0...3600) { limits.restartGrace = Double(v) }
        if let v = try section.integer("startup_seconds", in: 0...86400) { limits.startupSeconds = Double(v) }
        if let v = try section.integer("flap_restarts", in: 0...100) { limits.flapRestarts = Int(v) }
        if let v = try section.integer("flap_rounds", in: 1...1000) { limits.flapRounds = Int(v) }
        if let v = try section.integer("flap_quiet_seconds", in: 0...604800) { limits.flapQuietSeconds = Double(v) }
        if let v = try section.integer("max_behind_bytes", in: 0...Int64.max) { maxBehindBytes = v }
        if let v = try section.integer("keep_days", in: 0...36500) { keepDays = Int(v) }
    }
}

/// How patient chkservd is with one service.
public struct ServiceLimits: Sendable, Equatable {
    /// Consecutive failed socket checks before a restart (a failed process check restarts at once).
    public var failureThreshold = 3
    public var connectTimeout: Double = 10
    public var readTimeout: Double = 60
    public var restartTimeout: Double = 120
    /// After a restart, the service is left alone this long, then checked again.
    public var restartGrace: Double = 10
    /// After a restart, how long the service may take to come up: failed checks meanwhile
    /// neither restart it again nor count towards the threshold (a slow starter is not killed
    /// in a loop).
    public var startupSeconds: Double = 60
    /// Restarts within the last `flapRounds` checks after which a service down again is marked
    /// `flapping` instead of restarted once more; 0 never holds restarts back.
    public var flapRestarts = 3
    public var flapRounds = 10
    /// How long a flapping service's restarts stay held.
    public var flapQuietSeconds: Double = 3600

    public init() {}

    /// The longest one check can take: connect and read, the restarts, the grace period, and the
    /// check after it.
    func worstCaseSeconds(restarts: Int) -> Double {
        let probe = connectTimeout + readTimeout
        return restarts == 0 ? probe : probe + Double(restarts) * restartTimeout + restartGrace + probe
    }

    /// The keys a service file may set on lines of their own (`failure_threshold=5`).
    public static let overrideKeys = [
        "failure_threshold", "connect_timeout_seconds", "read_timeout_seconds", "restart_timeout_seconds", "restart_grace_seconds",
        "startup_seconds", "flap_restarts", "flap_rounds", "flap_quiet_seconds",
    ]
}
