import Foundation
import TailWatchEngine

/// The `[http]` table: where the daemon serves its pages, API and metrics, and who may read them.
///
/// Why checked here, with the rest of the configuration: a page open to the network without a
/// password is a mistake the daemon must refuse at start (exit 2, the line named), not discover
/// when someone else reads the accounts.
public struct HTTPSettings: Sendable {
    /// Where to listen, or nowhere.
    public enum Listen: Sendable, Equatable, CustomStringConvertible {
        case off
        case on(address: IPAddress, port: UInt16)

        public var description: String {
            switch self {
            case .off: "off"
            case .on(let address, let port): address.family == .v6 ? "[\(address)]:\(port)" : "\(address):\(port)"
            }
        }
    }

    public static let keys: Set<String> = ["listen", "password_file"]
    public static let defaultListen = "127.0.0.1:9786"

    public var listen: Listen
    /// Who may read the pages; nil on loopback without a `password_file` (no login asked).
    public var passwords: PasswordFile?

    public init(listen: Listen = .on(address: IPAddress("127.0.0.1")!, port: 9786), passwords: PasswordFile? = nil) {
        self.listen = listen
        self.passwords = passwords
    }

    /// Reads `[http]`; the password file, when named, is read and checked now if `readPasswords`
    /// (the daemon); the reports, which never serve a page, leave it alone (a user who may run
    /// them need not be able to read it).
    public init(_ section: ConfigSection, readPasswords: Bool = true) throws(ConfigError) {
        try section.requireOnly(Self.keys)
        let text = try section.string("listen") ?? Self.defaultListen
        let line = section.line(of: "listen")
        guard let listen = Self.parseListen(text) else {
            throw ConfigError(file: section.file, line: line, "listen = \"\(text)\" in [http] is not ADDRESS:PORT (like 127.0.0.1:9786 or [::1]:9786), or \"\" to turn the page off")
        }
        self.listen = listen
        let passwordFile = try section.path("password_file")
        if let passwordFile, readPasswords {
            passwords = try PasswordFile.load(path: passwordFile)
        }
        if case .on(let address, _) = listen, !address.isLoopback, passwordFile == nil {
            throw ConfigError(file: section.file, line: line, "listen = \"\(text)\" in [http] is not a loopback address: set password_file (lines of user:bcrypt or SHA-512-crypt hash), or listen on 127.0.0.1 and use an SSH tunnel")
        }
    }

    /// `ADDRESS:PORT`, `[IPV6]:PORT`, `localhost:PORT`; `""` is off. Nil when unreadable.
    static func parseListen(_ text: String) -> Listen? {
        if text.isEmpty { return .off }
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0 else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" { host = "127.0.0.1" }
        guard let address = IPAddress(host) else { return nil }
        return .on(address: address, port: port)
    }
}
