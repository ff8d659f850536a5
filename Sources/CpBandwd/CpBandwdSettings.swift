import TailWatchEngine

/// The `[cpbandwd]` table of the configuration.
public struct CpBandwdSettings: Sendable {
    public var enabled = true
    /// cPanel's per-domain logs: `DOMAIN`, `DOMAIN-ssl_log`, `DOMAIN-bytes_log`.
    public var domlogs: String? = "/usr/local/apache/domlogs"
    /// Logs whose lines start with the vhost (`vhost_combined`).
    public var accessLogs: [String] = []
    /// Take HTTP bytes from `DOMAIN-bytes_log` (bytes in and out) instead of the access logs'
    /// response sizes. Never both: that would count a request twice.
    public var useBytesLogs = false
    public var maillog: String?
    public var xferlog: String?
    public var limits: String?
    /// Where the over-limit marker files go (cPanel's mod_bwlimited reads `/var/cpanel/bwlimited`).
    public var limitedDirectory = "/var/cpanel/bwlimited"
    /// Run with user, domain, level, limit and usage when an account reaches 80, 90 or 100 %.
    public var notifyCommand: String?
    public var notifyTimeoutSeconds = 10
    /// Days of 5-minute rows kept (hourly, daily and monthly rows are kept); 0 keeps them all.
    public var keepFiveMinuteDays = 35

    public static let keys: Set<String> = [
        "enabled", "domlogs", "access_logs", "use_bytes_logs", "maillog", "xferlog", "limits",
        "limited_dir", "notify_command", "notify_timeout_seconds", "keep_5min_days",
    ]

    public init() {}

    public init(_ section: ConfigSection) throws(ConfigError) {
        try section.requireOnly(Self.keys)
        enabled = try section.bool("enabled") ?? section.isPresent
        if section.line(of: "domlogs") != nil {
            let value = try section.string("domlogs") ?? ""
            domlogs = value.isEmpty ? nil : try section.path("domlogs")
        }
        accessLogs = try section.pathArray("access_logs") ?? []
        useBytesLogs = try section.bool("use_bytes_logs") ?? false
        maillog = try section.path("maillog")
        xferlog = try section.path("xferlog")
        limits = try section.path("limits")
        if let v = try section.path("limited_dir") { limitedDirectory = v }
        notifyCommand = try section.path("notify_command")
        if let v = try section.integer("notify_timeout_seconds", in: 1...600) { notifyTimeoutSeconds = Int(v) }
        if let v = try section.integer("keep_5min_days", in: 0...36500) { keepFiveMinuteDays = Int(v) }
    }
}
