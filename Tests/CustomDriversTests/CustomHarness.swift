import Foundation
import GRDB
import TailWatchEngine
import TestSupport
@testable import CustomDrivers

/// A drivers_dir in a temporary folder, its definitions loaded as the daemon loads them, and the
/// real engine running them over real files.
final class CustomHarness {
    let harness: DriverHarness
    var folder: TemporaryFolder { harness.folder }
    let driversDir: String

    init(_ label: String = "custom") throws {
        harness = try DriverHarness(label: label, modules: [customDriverMigrations], userdomains: "")
        driversDir = harness.folder.file("drivers.d")
        try FileManager.default.createDirectory(atPath: driversDir, withIntermediateDirectories: true)
    }

    /// Writes `NAME.toml` (and `NAME.exec` when a program is given).
    @discardableResult
    func define(_ name: String, _ toml: String, program: String? = nil) throws -> String {
        let path = (driversDir as NSString).appendingPathComponent("\(name).toml")
        try toml.write(toFile: path, atomically: false, encoding: .utf8)
        if let program {
            let exec = (driversDir as NSString).appendingPathComponent("\(name).exec")
            try program.write(toFile: exec, atomically: false, encoding: .utf8)
            chmod(exec, 0o755)
        }
        return path
    }

    func catalog() -> CustomDriverCatalog {
        CustomDriverCatalog.load(folder: driversDir, reservedNames: ["eximstats", "cpbandwd", "antirelayd", "chkservd"])
    }

    func configured(_ name: String) throws -> ConfiguredDriver {
        let catalog = catalog()
        guard let descriptor = catalog.descriptors.first(where: { $0.name == name }) else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "\(name) refused: \(catalog.refused)"])
        }
        return try descriptor.configure(ConfigSection(name: name, file: "test.toml", headerLine: 0, entries: [:]), harness.settings)
    }

    func runOnce(_ name: String) throws {
        try harness.runOnce(name, configured(name))
    }

    func count(_ sql: String) throws -> Int { try harness.count(sql) }

    func rows(_ sql: String) throws -> [[String]] {
        try harness.database().read { db in
            try Row.fetchAll(db, sql: sql).map { row in row.databaseValues.map { $0.isNull ? "NULL" : "\($0.storage.value ?? "")" } }
        }
    }

    func report(_ name: String, by: [String] = [], lines: Bool = false) throws -> CustomReport.Result {
        try harness.database().read { db in
            try CustomReport.run(db, driver: name, by: by, lines: lines, since: nil, until: nil, limit: 1000)
        }
    }

    static var examples: String { Corpus.projectFolder + "/Examples" }

    /// An external driver's program that answers `{"word": LINE}` and exits (status 3) on `word`.
    static func echoProgram(dyingOn word: String) -> String {
        """
        #!/bin/sh
        while IFS= read -r line; do
          [ "$line" = "\(word)" ] && exit 3
          echo "{\\"word\\": \\"$line\\"}"
        done
        """
    }
}

extension DatabaseValue.Storage {
    var value: Any? {
        switch self {
        case .null: nil
        case .int64(let n): n
        case .double(let d): d
        case .string(let s): s
        case .blob(let b): b
        }
    }
}
