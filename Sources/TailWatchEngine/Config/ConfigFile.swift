import Foundation

/// A parsed configuration file: its top level and its tables, not yet interpreted.
///
/// Why separate from `TailWatchConfig`: the engine interprets the top level, each driver its own
/// table, and `tailwatchd --enable/--disable` rewrites one key without disturbing comments.
public struct ConfigFile: Sendable {
    public let path: String
    let tables: [String: (line: Int, entries: [String: ConfigEntry])]

    /// The path to use: `--config` if given, else `$TAILWATCH_CONFIG`, else the default.
    public static func resolvePath(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let env = environment["TAILWATCH_CONFIG"], !env.isEmpty { return env }
        return "/etc/tailwatch/tailwatch.toml"
    }

    public static func load(path: String) throws(ConfigError) -> ConfigFile {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let text: String
        do {
            text = try String(contentsOfFile: absolute, encoding: .utf8)
        } catch {
            if !FileManager.default.fileExists(atPath: absolute) {
                throw ConfigError(file: path, line: nil, "configuration file not found (give one with --config or TAILWATCH_CONFIG)")
            }
            throw ConfigError(file: path, line: nil, "cannot read the configuration file as UTF-8 text")
        }
        return try ConfigFile(path: absolute, text: text)
    }

    public init(path: String, text: String) throws(ConfigError) {
        var parser = TOMLSubsetParser(file: path, text: text)
        self.path = path
        self.tables = try parser.parse()
    }

    public var topLevel: ConfigSection { section("") }

    /// Names of the `[tables]` in the file, in file order.
    public var tableNames: [String] {
        tables.filter { !$0.key.isEmpty }.sorted { $0.value.line < $1.value.line }.map(\.key)
    }

    public func section(_ name: String) -> ConfigSection {
        let table = tables[name]
        return ConfigSection(name: name, file: path, headerLine: table?.line ?? 0, entries: table?.entries ?? [:])
    }
}
