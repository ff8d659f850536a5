import TailWatchEngine

/// The `[eximstats]` table of the configuration.
public struct EximStatsSettings: Sendable {
    public var enabled = true
    public var log = "/var/log/exim_mainlog"
    /// Days of rows kept (and of log lines read); 0 keeps everything.
    public var retentionDays = 10
    /// cPanel's per-domain sending limits (`domain: MAX_PER_HOUR,MAX_DEFER_FAIL_PCT,MIN_DEFER_FAIL`).
    public var sendLimits: String? = "/etc/email_send_limits"
    /// Deliveries to remote hosts per domain and hour when neither the file nor its `*` line says; 0 = unlimited.
    public var maxEmailsPerHour = 0
    /// Where `max_emails_DOMAIN` and `max_deferfail_DOMAIN` go (exim's ACL reads them there).
    public var limitsDirectory = "/var/cpanel/email_send_limits"
    /// Run with domain, kind (`max_emails` or `max_deferfail`), count and threshold, once per hour.
    public var notifyCommand: String?
    public var notifyTimeoutSeconds = 10

    public static let keys: Set<String> = [
        "enabled", "log", "retention_days", "send_limits", "max_emails_per_hour", "limits_dir", "notify_command", "notify_timeout_seconds",
    ]

    public init() {}

    public init(_ section: ConfigSection) throws(ConfigError) {
        try section.requireOnly(Self.keys)
        enabled = try section.bool("enabled") ?? section.isPresent
        if let v = try section.path("log") { log = v }
        if let v = try section.integer("retention_days", in: 0...36500) { retentionDays = Int(v) }
        if section.line(of: "send_limits") != nil {
            let value = try section.string("send_limits") ?? ""
            sendLimits = value.isEmpty ? nil : try section.path("send_limits")
        }
        if let v = try section.integer("max_emails_per_hour", in: 0...100_000_000) { maxEmailsPerHour = Int(v) }
        if let v = try section.path("limits_dir") { limitsDirectory = v }
        notifyCommand = try section.path("notify_command")
        if let v = try section.integer("notify_timeout_seconds", in: 1...600) { notifyTimeoutSeconds = Int(v) }
    }
}
