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
        guard let data = FileBytes.read(path) else { return AlwaysRelay() }
        return AlwaysRelay(text: String(decoding: data, as: UTF8.self), path: path)
    }

    public init(text: String, path: String) {
        // Split on any line end (CRLF included: a Swift Character holds "\r\n" as one).
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            var line = Substring(raw)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            // "ip: user"; an IPv6 address has colons but never ": ", and may be quoted as in exim's
            // lookup files ("2001:db8::1": user).
            var hostText = trimmed
            var rest = ""
            if trimmed.hasPrefix("\""), let close = trimmed.dropFirst().firstIndex(of: "\"") {
                hostText = String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
                rest = String(trimmed[trimmed.index(after: close)...])
            } else if let separator = trimmed.range(of: ": ") {
                hostText = String(trimmed[..<separator.lowerBound])
                rest = String(trimmed[separator.lowerBound...])
            } else if trimmed.hasSuffix(":") {
                hostText = String(trimmed.dropLast())
            }
            var user: String? = nil
            let tail = rest.trimmingCharacters(in: .whitespaces)
            if tail.hasPrefix(":") {
                let name = tail.dropFirst().trimmingCharacters(in: .whitespaces)
                user = name.isEmpty ? nil : name
            } else if !tail.isEmpty {
                problems.append("\(path):\(index + 1): '\(trimmed)' is not 'ip' or 'ip: user'; line skipped")
                continue
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
