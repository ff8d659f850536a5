import Foundation
import TailWatchEngine

/// The operator's always-relay list (cPanel's `/etc/alwaysrelay`): `ip` or `ip: user` per line, a
/// network as `ip/bits`, `#` comments. Merged into every export, whatever the logins say.
///
/// A line that is not an address is skipped and reported (file and line), never guessed at: a typo
/// must not whitelist a different host.
public struct AlwaysRelay: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var host: IPNetwork
        public var user: String?
    }

    public var entries: [Entry] = []
    /// `path:line: why` for each skipped line.
    public var problems: [String] = []

    public init(entries: [Entry] = []) {
        self.entries = entries
    }

    /// Reads `path`; a missing file is an empty list (the file is optional).
    public static func load(path: String) -> AlwaysRelay {
        guard let data = FileManager.default.contents(atPath: path) else { return AlwaysRelay() }
        return AlwaysRelay(text: String(decoding: data, as: UTF8.self), path: path)
    }

    public init(text: String, path: String) {
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(raw)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            // "ip: user" — the address may itself hold colons (IPv6), so split at ": " or a last ":"
            // followed by a non-hex name.
            var hostText = trimmed
            var user: String? = nil
            if let separator = trimmed.range(of: ": ") {
                hostText = String(trimmed[..<separator.lowerBound])
                let name = trimmed[separator.upperBound...].trimmingCharacters(in: .whitespaces)
                user = name.isEmpty ? nil : name
            } else if trimmed.hasSuffix(":") {
                hostText = String(trimmed.dropLast())
            }
            guard let host = IPNetwork(hostText.trimmingCharacters(in: .whitespaces)) else {
                problems.append("\(path):\(index + 1): '\(trimmed)' is not an IP address or network; line skipped")
                continue
            }
            if let user, user.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == "," }) {
                problems.append("\(path):\(index + 1): user name holds a comma or control character; line skipped")
                continue
            }
            entries.append(Entry(host: host, user: user))
        }
    }
}
