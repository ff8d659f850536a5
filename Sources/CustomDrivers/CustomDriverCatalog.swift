import Foundation
import TailWatchEngine

/// The custom drivers found in `drivers_dir`: the definitions that were read, and the files that
/// were refused (each with its one-line reason), so that one bad file never keeps the others or
/// the stock drivers from running.
public struct CustomDriverCatalog: Sendable {
    public let folder: String
    public let definitions: [CustomDefinition]
    public let refused: [ConfigError]
    /// The names of the refused drivers: a `[NAME]` table in the configuration for one of them (what
    /// `--disable` writes) is not an unknown driver, and `--enable/--disable` still take the name.
    public let refusedNames: [String]

    /// Reads every `*.toml` (and notices every `*.exec`) in `folder`; a missing folder is no driver.
    /// `reservedNames`: the stock drivers' names, which a file may not take.
    public static func load(folder: String, reservedNames: Set<String>) -> CustomDriverCatalog {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
            return CustomDriverCatalog(folder: folder, definitions: [], refused: [], refusedNames: [])
        }
        var definitions: [CustomDefinition] = []
        var refused: [ConfigError] = []
        var refusedNames: [String] = []
        let stems = Set(names.filter { $0.hasSuffix(".toml") }.map { String($0.dropLast(5)) })
        for name in names.sorted() {
            let path = (folder as NSString).appendingPathComponent(name)
            if name.hasSuffix(".exec") {
                if !stems.contains(String(name.dropLast(5))) {
                    refused.append(ConfigError(file: path, line: nil, "no \(name.dropLast(5)).toml beside it to say which files it reads and which columns it fills; not loaded"))
                    refusedNames.append(String(name.dropLast(5)))
                }
                continue
            }
            guard name.hasSuffix(".toml") else { continue }
            let stem = String(name.dropLast(5))
            let programPath = (folder as NSString).appendingPathComponent(stem + ".exec")
            var program: String?
            if FileManager.default.fileExists(atPath: programPath) {
                guard access(programPath, X_OK) == 0 else {
                    refused.append(ConfigError(file: programPath, line: nil, "is not executable (chmod +x it); driver \(stem) not loaded"))
                    refusedNames.append(stem)
                    continue
                }
                program = programPath
            }
            do {
                definitions.append(try DefinitionLoader.load(path: path, program: program, reservedNames: reservedNames))
            } catch {
                refused.append(error)
                refusedNames.append(stem)
            }
        }
        let usable = refusedNames.filter { DefinitionLoader.isIdentifier($0) && !reservedNames.contains($0) }
        return CustomDriverCatalog(folder: folder, definitions: definitions, refused: refused, refusedNames: usable)
    }

    /// Descriptors the daemon registers beside the stock drivers'. The configuration file may hold
    /// a `[NAME]` table with `enabled` only (what `--enable`/`--disable` write); it wins over the
    /// definition's own `enabled`.
    public var descriptors: [DriverDescriptor] {
        definitions.map { definition in
            DriverDescriptor(
                name: definition.name, version: definition.version,
                summary: "custom (\(definition.isExternal ? "program" : "declarative"), \(definition.file))"
                    + (definition.description.isEmpty ? "" : ": \(definition.description)"),
                migrations: MigrationSet(module: "custom.\(definition.name)", files: [])
            ) { section, _ throws(ConfigError) in
                try section.requireOnly(["enabled"])
                let enabled = try section.bool("enabled") ?? definition.enabled
                return ConfiguredDriver(enabled: enabled, sources: definition.sources) { context, db in
                    try CustomDriver(definition: definition, context: context, db: db)
                }
            }
        }
    }
}

/// The module's own table (`custom_driver_schemas`), which the daemon migrates with the others.
public let customDriverMigrations = MigrationSet(module: "CustomDrivers", files: embeddedMigrationFiles)
