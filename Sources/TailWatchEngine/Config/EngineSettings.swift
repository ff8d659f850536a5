import Foundation

/// The top level of the configuration file: where TailWatch keeps its database, log and pid file,
/// and how the engine batches. Drivers receive it to resolve shared inputs (`userdomains`, `timezone`).
public struct EngineSettings: Sendable {
    public var database: String
    public var logFile: String
    public var pidFile: String
    public var userdomains: String
    /// Zone of log timestamps that carry none (exim, syslog).
    public var timezone: TimeZone
    /// Commit after this many events...
    public var batchEvents: Int
    /// The same while catching up on a backlog (more than a read chunk behind the end).
    public var catchUpBatchEvents: Int
    /// ...or after this long with events pending, whichever comes first.
    public var batchIntervalMilliseconds: Int
    /// How often files are stat-polled when inotify is unavailable (and as a safety net with it).
    public var pollIntervalMilliseconds: Int
    /// Longer lines are counted as rejected and skipped without being buffered whole.
    public var maxLineBytes: Int
    /// Folder of custom drivers (`NAME.toml`, `NAME.exec`); a missing folder means none.
    public var driversDir: String

    public static let topLevelKeys: Set<String> = [
        "database", "log_file", "pid_file", "userdomains", "timezone",
        "batch_events", "catchup_batch_events", "batch_interval_ms", "poll_interval_ms", "max_line_bytes",
        "drivers_dir",
    ]

    public init(
        database: String = "/var/lib/tailwatch/tailwatch.sqlite3",
        logFile: String = "/var/log/tailwatch/tailwatchd.log",
        pidFile: String = "/run/tailwatchd.pid",
        userdomains: String = "/etc/userdomains",
        timezone: TimeZone = TimeZone(identifier: "UTC")!,
        batchEvents: Int = 1000,
        catchUpBatchEvents: Int = 1_000_000,
        batchIntervalMilliseconds: Int = 300,
        pollIntervalMilliseconds: Int = 1000,
        maxLineBytes: Int = 65536,
        driversDir: String = "/etc/tailwatch/drivers.d"
    ) {
        self.database = database
        self.logFile = logFile
        self.pidFile = pidFile
        self.userdomains = userdomains
        self.timezone = timezone
        self.batchEvents = batchEvents
        self.catchUpBatchEvents = catchUpBatchEvents
        self.batchIntervalMilliseconds = batchIntervalMilliseconds
        self.pollIntervalMilliseconds = pollIntervalMilliseconds
        self.maxLineBytes = maxLineBytes
        self.driversDir = driversDir
    }

    /// Reads and validates the top level of `file`.
    public init(from file: ConfigFile) throws(ConfigError) {
        let top = file.topLevel
        try top.requireOnly(Self.topLevelKeys)
        self.init()
        if let v = try top.path("database") { database = v }
        if let v = try top.path("log_file") { logFile = v }
        if let v = try top.path("pid_file") { pidFile = v }
        if let v = try top.path("userdomains") { userdomains = v }
        if let v = try top.path("drivers_dir") { driversDir = v }
        if let name = try top.string("timezone") {
            guard let zone = TimeZone(identifier: name) else {
                throw ConfigError(file: file.path, line: top.line(of: "timezone"), "unknown time zone '\(name)' (use a name like UTC or Europe/Berlin)")
            }
            timezone = zone
        }
        if let v = try top.integer("batch_events", in: 1...1_000_000) { batchEvents = Int(v) }
        if let v = try top.integer("catchup_batch_events", in: 1...10_000_000) { catchUpBatchEvents = Int(v) }
        if let v = try top.integer("batch_interval_ms", in: 10...10_000) { batchIntervalMilliseconds = Int(v) }
        if let v = try top.integer("poll_interval_ms", in: 50...60_000) { pollIntervalMilliseconds = Int(v) }
        if let v = try top.integer("max_line_bytes", in: 1024...16_777_216) { maxLineBytes = Int(v) }
    }
}
