import TailWatchEngine

/// The `[antirelayd]` table of the configuration.
public struct AntirelaydSettings: Sendable {
    public var enabled = true
    public var maillog = "/var/log/maillog"
    /// How long a successful login lets its IP relay (cPanel: 30 minutes).
    public var expireMinutes = 30
    /// Files the daemon keeps current itself (cPanel's `/etc/recent_authed_mail_ips` and
    /// `…_users`); unset, only `tailwatch-report relayhosts --export` writes them.
    public var export: String?
    public var exportUsers: String?
    /// Permission bits of the exported files.
    public var exportMode: UInt16 = 0o644
    /// `ip` or `ip: user` per line, merged into every export (cPanel's `/etc/alwaysrelay`).
    public var alwaysRelay: String?
    /// More of the server's own addresses (or networks) never whitelisted, besides the local
    /// interfaces' addresses, which never are.
    public var localAddresses: [IPNetwork]?

    public static let keys: Set<String> = [
        "enabled", "maillog", "expire_minutes", "export", "export_users", "export_mode", "alwaysrelay", "local_addresses",
    ]

    public init() {}

    public init(_ section: ConfigSection) throws(ConfigError) {
        try section.requireOnly(Self.keys)
        enabled = try section.bool("enabled") ?? section.isPresent
        if let v = try section.path("maillog") { maillog = v }
        if let v = try section.integer("expire_minutes", in: 1...10080) { expireMinutes = Int(v) }
        export = try section.path("export")
        exportUsers = try section.path("export_users")
        if let text = try section.string("export_mode") {
            guard let mode = Self.parseMode(text) else {
                throw ConfigError(file: section.file, line: section.line(of: "export_mode"), "'export_mode' in [antirelayd] must be octal permission bits like \"0644\", not \"\(text)\"")
            }
            exportMode = mode
        }
        alwaysRelay = try section.path("alwaysrelay")
        if let list = try section.stringArray("local_addresses") {
            var networks: [IPNetwork] = []
            for item in list {
                guard let network = IPNetwork(item) else {
                    throw ConfigError(file: section.file, line: section.line(of: "local_addresses"), "'local_addresses' in [antirelayd]: '\(item)' is not an IP address or network")
                }
                networks.append(network)
            }
            localAddresses = networks
        }
    }

    /// "0644", "644" or "0o644"; at most 0777 (no set-id or sticky bits for a whitelist).
    static func parseMode(_ text: String) -> UInt16? {
        var digits = Substring(text)
        if digits.hasPrefix("0o") { digits = digits.dropFirst(2) }
        guard !digits.isEmpty, digits.count <= 4, digits.allSatisfy({ ("0"..."7").contains($0) }),
              let value = UInt16(digits, radix: 8), value <= 0o777 else { return nil }
        return value
    }

    public var windowSeconds: Int64 { Int64(expireMinutes) * 60 }
}
