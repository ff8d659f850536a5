import Foundation

/// One `[table]` of the configuration file (or its top level), read by the part of TailWatch that
/// owns it: the engine reads the top level, each driver its own table.
///
/// Why each owner validates its own keys: the engine knows no driver, so it cannot know which keys a
/// driver takes. Each reader names its keys in `requireOnly(_:)`, and a typo becomes an error naming
/// the file and line instead of a silently ignored setting.
public struct ConfigSection: Sendable {
    /// Table name, "" for the top level.
    public let name: String
    /// The configuration file, for messages and to resolve relative paths.
    public let file: String
    /// Line of the `[name]` header (0 for the top level or a table that is absent).
    public let headerLine: Int
    let entries: [String: ConfigEntry]

    public init(name: String, file: String, headerLine: Int, entries: [String: ConfigEntry]) {
        self.name = name
        self.file = file
        self.headerLine = headerLine
        self.entries = entries
    }

    /// Whether the table was written in the file at all.
    public var isPresent: Bool { headerLine > 0 || !entries.isEmpty }

    private var label: String { name.isEmpty ? "at the top level" : "in [\(name)]" }

    /// Fails with the first key (in file order) that is not in `known`.
    public func requireOnly(_ known: Set<String>) throws(ConfigError) {
        let unknown = entries.filter { !known.contains($0.key) }.sorted { $0.value.line < $1.value.line }
        if let (key, entry) = unknown.first {
            throw ConfigError(
                file: file, line: entry.line,
                "unknown key '\(key)' \(label) (known: \(known.sorted().joined(separator: ", ")))")
        }
    }

    private func typeError(_ key: String, _ entry: ConfigEntry, expected: String) -> ConfigError {
        ConfigError(file: file, line: entry.line, "'\(key)' \(label) must be \(expected), not \(entry.value.typeName)")
    }

    public func string(_ key: String) throws(ConfigError) -> String? {
        guard let entry = entries[key] else { return nil }
        guard case .string(let s) = entry.value else { throw typeError(key, entry, expected: "a string") }
        return s
    }

    public func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let entry = entries[key] else { return nil }
        guard case .bool(let b) = entry.value else { throw typeError(key, entry, expected: "true or false") }
        return b
    }

    /// An integer within `range`.
    public func integer(_ key: String, in range: ClosedRange<Int64>) throws(ConfigError) -> Int64? {
        guard let entry = entries[key] else { return nil }
        guard case .integer(let n) = entry.value else { throw typeError(key, entry, expected: "an integer") }
        guard range.contains(n) else {
            throw ConfigError(file: file, line: entry.line, "'\(key)' \(label) must be between \(range.lowerBound) and \(range.upperBound), not \(n)")
        }
        return n
    }

    public func stringArray(_ key: String) throws(ConfigError) -> [String]? {
        guard let entry = entries[key] else { return nil }
        guard case .array(let items) = entry.value else { throw typeError(key, entry, expected: "an array of strings") }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item else { throw typeError(key, entry, expected: "an array of strings") }
            out.append(s)
        }
        return out
    }

    /// A path, made absolute against the configuration file's folder.
    public func path(_ key: String) throws(ConfigError) -> String? {
        guard let raw = try string(key) else { return nil }
        guard !raw.isEmpty else {
            throw ConfigError(file: file, line: entries[key]!.line, "'\(key)' \(label) must not be empty")
        }
        return resolve(raw)
    }

    public func pathArray(_ key: String) throws(ConfigError) -> [String]? {
        try stringArray(key)?.map(resolve)
    }

    /// The keys as written, in file order (for tables whose keys are names the owner chose, such as
    /// a custom driver's columns).
    public var keysInFileOrder: [String] { entries.sorted { $0.value.line < $1.value.line }.map(\.key) }

    /// The line a key was written on, for messages of the section's owner.
    public func line(of key: String) -> Int? { entries[key]?.line }

    func resolve(_ raw: String) -> String {
        if raw.hasPrefix("/") { return raw }
        let folder = (file as NSString).deletingLastPathComponent
        return ((folder.isEmpty ? "." : folder) as NSString).appendingPathComponent(raw)
    }
}
