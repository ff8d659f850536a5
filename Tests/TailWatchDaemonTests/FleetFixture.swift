import FleetShipper
import Foundation
import GRDB
import TestSupport
import Testing

/// One server of a fleet: the shipped example copied to a folder of its own, its `[fleet]`
/// pointing at a test PostgreSQL under `host`, its web page off. Runs the real binaries.
final class FleetFixture {
    let folder = TemporaryFolder("tailwatch-fleet")
    let host: String
    let configPath: String
    let databasePath: String
    let examples: String
    private var daemon: Process?
    /// How many times the shipper had connected when the daemon was last started.
    private var connectionsBefore = 0

    init(host: String, postgres: String, password: String, batchRows: Int = 5000) throws {
        self.host = host
        examples = folder.file("Examples")
        try FileManager.default.copyItem(atPath: Corpus.projectFolder + "/Examples", toPath: examples)
        configPath = examples + "/tailwatch.toml"
        databasePath = folder.file("var/tailwatch.sqlite3")
        try folder.write("fleet.pass", password + "\n")
        var config = try String(contentsOfFile: configPath, encoding: .utf8)
        if let table = config.range(of: "\n[http]") { config = String(config[..<table.lowerBound]) }
        config += """

            [http]
            listen = ""

            [fleet]
            postgres = "\(postgres)"
            password_file = "../fleet.pass"
            host_name = "\(host)"
            batch_rows = \(batchRows)

            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    deinit { stop() }

    @discardableResult
    func run(_ binary: String, _ arguments: [String]) throws -> Subprocess.Result {
        try Subprocess.run(DaemonFixture.binaryFolder + "/" + binary, arguments)
    }

    /// `tailwatch-report [--fleet] ARGS --format json`, decoded, each value as its text.
    func report(_ arguments: [String], fleet: Bool = false) throws -> [[String: String]] {
        let result = try run("tailwatch-report", ["--config", configPath] + (fleet ? ["--fleet"] : []) + arguments + ["--format", "json"])
        guard result.code == 0 else { throw PostgresTestServer.Failure(message: "report \(arguments) exit \(result.code): \(result.err)") }
        let rows = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [[String: Any]] ?? []
        return rows.map { row in row.mapValues { $0 is NSNull ? "null" : "\($0)" } }
    }

    /// This server's own report rows, each with its host added: what the fleet should say of it.
    func localRowsAsFleet(_ arguments: [String]) throws -> Set<[String: String]> {
        Set(try report(arguments).map { var r = $0; r["host"] = host; return r })
    }

    func once() throws {
        let result = try run("tailwatchd", ["--config", configPath, "--once"])
        guard result.code == 0 else { throw PostgresTestServer.Failure(message: "--once exit \(result.code): \(result.err)") }
    }

    func start() throws {
        connectionsBefore = connections()
        daemon = try Subprocess.start(DaemonFixture.binaryFolder + "/tailwatchd", ["--foreground", "--config", configPath])
    }

    func stop() {
        guard let daemon, daemon.isRunning else { return }
        daemon.terminate()
        daemon.waitUntilExit()
    }

    /// SIGKILL: no final commit, no goodbye.
    func kill9() {
        guard let daemon, daemon.isRunning else { return }
        kill(daemon.processIdentifier, SIGKILL)
        daemon.waitUntilExit()
    }

    /// Rows in the outbox (nil before the daemon created it).
    func unshipped() -> Int64? {
        guard let queue = try? DatabaseQueue(path: databasePath, configuration: { var c = Configuration(); c.readonly = true; c.busyMode = .timeout(5); return c }()) else { return nil }
        return try? queue.read { db -> Int64? in
            guard try db.tableExists("fleet_identity") else { return nil }
            return try FleetOutbox.lag(db, now: 0).rows
        }
    }

    /// Whether the daemon committed every file it tails up to its end (an empty outbox before
    /// that says nothing: the shipper may connect before the engine has read the new lines).
    func caughtUp() -> Bool {
        guard let queue = try? DatabaseQueue(path: databasePath, configuration: { var c = Configuration(); c.readonly = true; c.busyMode = .timeout(5); return c }()),
              let positions = try? queue.read({ db in try Row.fetchAll(db, sql: "SELECT path, offset FROM checkpoints") }), !positions.isEmpty
        else { return false }
        return positions.allSatisfy { row in
            let path: String = row["path"], offset: Int64 = row["offset"]
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
            return offset >= size
        }
    }

    /// Waits until the daemon started last read its logs to their end, connected to PostgreSQL
    /// and shipped everything.
    func waitShipped(timeout: Double = 60) -> Bool {
        eventually(timeout: timeout) { self.caughtUp() && self.connections() > self.connectionsBefore && self.unshipped() == 0 }
    }

    /// Starts the daemon, waits until it shipped everything (an issue of the calling test if it
    /// does not), and stops it.
    func runUntilShipped(sourceLocation: SourceLocation = #_sourceLocation) throws {
        try start()
        #expect(waitShipped(), "\(host) shipped: \(daemonLog().suffix(2000))", sourceLocation: sourceLocation)
        stop()
    }

    private func connections() -> Int { daemonLog().components(separatedBy: "fleet: connected to PostgreSQL").count - 1 }

    func daemonLog() -> String { (try? String(contentsOfFile: folder.file("var/tailwatchd.log"), encoding: .utf8)) ?? "" }
}
