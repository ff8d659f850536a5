import FleetShipper
import Foundation
import TailWatchEngine

/// The `[fleet]` table: where this server ships its rollups, under which host name.
///
/// Why the password never comes from here: configuration files get pasted into tickets and kept
/// in version control. A URL with a password in it is refused with its line; the password comes
/// from `password_file` (checked to exist now, so a missing file stops the start with its name;
/// read when connecting, so that reading the configuration does not need the password) or from
/// libpq's own `PGPASSWORD` and `~/.pgpass`.
public struct FleetSettings: Sendable {
    public static let keys: Set<String> = ["postgres", "password_file", "host_name", "batch_rows"]

    /// What to ship to; nil when `postgres` is absent or empty (the fleet is off).
    public let target: FleetShipper.Target?

    public init(_ section: ConfigSection, hostName: String = ProcessInfo.processInfo.hostName) throws(ConfigError) {
        try section.requireOnly(Self.keys)
        guard let url = try section.string("postgres"), !url.isEmpty else {
            target = nil
            return
        }
        let line = section.line(of: "postgres")
        guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
            throw ConfigError(file: section.file, line: line, "postgres = \"\(url)\" in [fleet] is not a postgres:// URL (like postgres://tailwatch@fleet-db.example:5432/tailwatch?sslmode=require)")
        }
        if Self.hasPassword(url) {
            throw ConfigError(file: section.file, line: line, "postgres in [fleet] holds a password: remove it from the URL and put it in password_file (or PGPASSWORD in the daemon's environment)")
        }
        let passwordFile = try section.path("password_file")
        if let passwordFile, !FileManager.default.fileExists(atPath: passwordFile) {
            throw ConfigError(file: section.file, line: section.line(of: "password_file"), "password_file \(passwordFile) in [fleet] does not exist (its first line is the PostgreSQL password)")
        }
        let host = try section.string("host_name") ?? hostName
        guard !host.isEmpty, host.utf8.count <= 253, host.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw ConfigError(file: section.file, line: section.line(of: "host_name") ?? line, "host_name \"\(host)\" in [fleet] must be 1 to 253 printable characters without spaces (the name this server's rows carry in the fleet)")
        }
        let batchRows = Int(try section.integer("batch_rows", in: 1...100_000) ?? 5000)
        target = FleetShipper.Target(url: url, passwordFile: passwordFile, host: host, batchRows: batchRows)
    }

    public init() { target = nil }

    /// What a reload compares: the URL and host name (never the password).
    public var description: String { target.map { "\($0.url) as \($0.host)" } ?? "off" }

    /// `scheme://user:password@host…`: a colon in the part before the `@` of the authority.
    static func hasPassword(_ url: String) -> Bool {
        guard let schemeEnd = url.range(of: "://") else { return false }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        guard let at = authority.lastIndex(of: "@") else { return url.contains("password=") }
        return authority[..<at].contains(":") || url.contains("password=")
    }
}
