import Foundation
import GRDB
import TestSupport

/// A configuration, logs and database in a temporary folder, and the real `tailwatchd` binary.
final class DaemonFixture {
    let folder = TemporaryFolder("tailwatchd")
    let configPath: String
    let mainlog: String

    static var binaryFolder: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }

    init(extraTopLevel: String = "", eximExtra: String = "") throws {
        mainlog = folder.file("exim_mainlog")
        try folder.write("userdomains", MainlogGenerator.userdomains())
        configPath = try folder.write("tailwatch.toml", """
            database = "db/tailwatch.sqlite3"
            log_file = "tailwatchd.log"
            pid_file = "tailwatchd.pid"
            userdomains = "userdomains"
            \(extraTopLevel)

            [eximstats]
            enabled = true   # the driver under test
            log = "exim_mainlog"
            retention_days = 0
            \(eximExtra.contains("send_limits") ? "" : "send_limits = \"\"")
            \(eximExtra.contains("limits_dir") ? "" : "limits_dir = \"send-limit-markers\"")
            \(eximExtra)
            """)
    }

    var databasePath: String { folder.file("db/tailwatch.sqlite3") }
    var daemonLog: String { (try? String(contentsOfFile: folder.file("tailwatchd.log"), encoding: .utf8)) ?? "" }

    struct Result {
        var code: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a binary to completion.
    @discardableResult
    func run(_ arguments: [String], binary: String = "tailwatchd", environment: [String: String]? = nil) throws -> Result {
        let result = try Subprocess.run(Self.binaryFolder + "/" + binary, arguments, environment: environment)
        return Result(code: result.code, stdout: result.out, stderr: result.err)
    }

    /// Starts `tailwatchd --foreground` and returns the running process.
    func startForeground(_ extra: [String] = [], environment: [String: String] = [:]) throws -> Process {
        try Subprocess.start(Self.binaryFolder + "/tailwatchd", ["--foreground", "--config", configPath] + extra, environment: environment)
    }

    func query<T: DatabaseValueConvertible>(_ sql: String) throws -> T? {
        var config = Configuration()
        config.readonly = true
        let queue = try DatabaseQueue(path: databasePath, configuration: config)
        return try queue.read { db in try T.fetchOne(db, sql: sql) }
    }

    /// Waits until `condition` holds or `seconds` pass.
    @discardableResult
    func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }
}
