/// A configuration mistake, reported as one line that names the file and line at fault, e.g.
/// `/etc/tailwatch/tailwatch.toml:14: unknown key 'lgo' in [eximstats] (known: enabled, log, retention_days)`.
///
/// Why a type of its own: the daemon turns it into exit code 2 (usage or config error) while
/// runtime failures exit 1, and a sysadmin must be able to act on the message without a manual.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    public let line: Int?
    public let message: String

    public init(file: String, line: Int?, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}
