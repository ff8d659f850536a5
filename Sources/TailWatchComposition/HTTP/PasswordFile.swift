import Foundation
import TailWatchEngine

/// The `[http] password_file`: one `user:hash` per line, the hash made by `mkpasswd -m sha-512`
/// (`$6$…`) or `htpasswd -B` (`$2y$…`, bcrypt). Blank lines and `#` comments are allowed.
///
/// Why only these two: both are salted and slow, and the C library's crypt() verifies both. A
/// plain or MD5 entry is refused with its line, rather than accepted and weak.
public struct PasswordFile: Sendable {
    public let path: String
    /// Hash per user name.
    public let hashes: [String: String]

    public static func load(path: String) throws(ConfigError) -> PasswordFile {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigError(file: path, line: nil, "cannot read the [http] password_file: \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, line: nil, "the [http] password_file is not UTF-8 text")
        }
        var hashes: [String: String] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r")))
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw ConfigError(file: path, line: index + 1, "expected user:hash")
            }
            let user = String(line[..<colon]), hash = String(line[line.index(after: colon)...])
            guard isSupported(hash) else {
                throw ConfigError(file: path, line: index + 1, "the hash of '\(user)' is not bcrypt ($2b$/$2y$) or SHA-512-crypt ($6$); make one with: mkpasswd -m sha-512")
            }
            guard hashes[user] == nil else { throw ConfigError(file: path, line: index + 1, "user '\(user)' is listed twice") }
            hashes[user] = hash
        }
        guard !hashes.isEmpty else { throw ConfigError(file: path, line: nil, "the [http] password_file lists no user") }
        return PasswordFile(path: path, hashes: hashes)
    }

    init(path: String, hashes: [String: String]) {
        self.path = path
        self.hashes = hashes
    }

    static func isSupported(_ hash: String) -> Bool {
        let bcrypt = ["$2a$", "$2b$", "$2y$"].contains { hash.hasPrefix($0) } && hash.utf8.count == 60
        let sha512 = hash.hasPrefix("$6$") && hash.split(separator: "$", omittingEmptySubsequences: false).count >= 4
        return bcrypt || sha512
    }
}
