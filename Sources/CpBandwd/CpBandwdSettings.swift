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

    public static let keys: Set<String> = ["enabled", "domlogs", "access_logs", "use_bytes_logs", "maillog", "xferlog", "limits"]

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
    }
}
