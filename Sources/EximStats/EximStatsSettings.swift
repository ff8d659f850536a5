import TailWatchEngine

/// The `[eximstats]` table of the configuration.
public struct EximStatsSettings: Sendable {
    public var enabled = true
    public var log = "/var/log/exim_mainlog"
    /// Days of rows kept (and of log lines read); 0 keeps everything.
    public var retentionDays = 10

    public static let keys: Set<String> = ["enabled", "log", "retention_days"]

    public init() {}

    public init(_ section: ConfigSection) throws(ConfigError) {
        try section.requireOnly(Self.keys)
        enabled = try section.bool("enabled") ?? section.isPresent
        if let v = try section.path("log") { log = v }
        if let v = try section.integer("retention_days", in: 0...36500) { retentionDays = Int(v) }
    }
}
