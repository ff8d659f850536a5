import FleetStore
import Foundation
import Synchronization

/// A real PostgreSQL server for the fleet's tests: the cluster `.ci/run` started (its URL and
/// password in `TAILWATCH_TEST_POSTGRES_URL` and `TAILWATCH_TEST_POSTGRES_PASSWORD`), or else one
/// this test process starts with `tools/pg-test-cluster` and stops when it exits. Each test takes
/// a database of its own (`freshDatabase()`), so tests run side by side.
public final class PostgresTestServer: Sendable {
    public let url: String
    public let password: String
    /// The cluster's folder when this process started it (tests that stop and start the server
    /// start a private one).
    public let folder: String?
    public let port: UInt16

    /// The server shared by every test of this process.
    public static var shared: PostgresTestServer {
        get throws {
            try sharedServer.withLock { server in
                if let server { return server }
                let environment = ProcessInfo.processInfo.environment
                let started: PostgresTestServer
                if let url = environment["TAILWATCH_TEST_POSTGRES_URL"], let password = environment["TAILWATCH_TEST_POSTGRES_PASSWORD"] {
                    started = PostgresTestServer(url: url, password: password, folder: nil, port: 0)
                } else {
                    started = try PostgresTestServer.startPrivate()
                    atexit { PostgresTestServer.stopStartedClusters() }
                }
                server = started
                return started
            }
        }
    }

    private static let sharedServer = Mutex<PostgresTestServer?>(nil)
    private static let startedFolders = Mutex<[String]>([])

    private init(url: String, password: String, folder: String?, port: UInt16) {
        self.url = url
        self.password = password
        self.folder = folder
        self.port = port
    }

    /// A cluster of the caller's own (a test that stops and restarts PostgreSQL): call `stop()`.
    public static func startPrivate() throws -> PostgresTestServer {
        // Directly under /tmp: the server runs as an unprivileged user, who must reach the folder.
        let folder = "/tmp/tailwatch-pg-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let port = FreePort.next()
        let result = try cluster(["start", folder, String(port)])
        guard result.code == 0 else { throw Failure(message: "tools/pg-test-cluster start failed: \(result.output)") }
        startedFolders.withLock { $0.append(folder) }
        let password = try String(contentsOfFile: folder + "/password", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return PostgresTestServer(url: result.output.trimmingCharacters(in: .whitespacesAndNewlines), password: password, folder: folder, port: port)
    }

    /// Stops a cluster this process started: `fast` (a clean shutdown) or immediate (as a crash).
    public func stop(fast: Bool = true) throws {
        guard let folder else { return }
        _ = try Self.cluster([fast ? "stop" : "kill", folder])
    }

    /// Starts it again after `stop`.
    public func restart() throws {
        guard let folder else { return }
        let result = try Self.cluster(["start", folder, String(port)])
        guard result.code == 0 else { throw Failure(message: "tools/pg-test-cluster start failed: \(result.output)") }
    }

    /// Stops and deletes every cluster this process started.
    public static func stopStartedClusters() {
        for folder in startedFolders.withLock({ $0 }) {
            _ = try? cluster(["stop", folder])
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    /// A new, empty database on this server; returns its URL.
    public func freshDatabase() throws -> String {
        let name = "fleet_\(UInt64.random(in: 0...UInt64.max))"
        let admin = try PostgresConnection(url: url, password: password)
        try admin.execute("CREATE DATABASE \(name)")
        guard let slash = url.range(of: "/", options: .backwards) else { throw Failure(message: "cannot read \(url)") }
        return url[..<slash.lowerBound] + "/" + name
    }

    public struct Failure: Error, CustomStringConvertible {
        public let message: String
        public init(message: String) { self.message = message }
        public var description: String { message }
    }

    private static func cluster(_ arguments: [String]) throws -> (code: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Corpus.projectFolder + "/tools/pg-test-cluster")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
