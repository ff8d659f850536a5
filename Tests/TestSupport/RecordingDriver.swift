import Foundation
import GRDB
import Logging
import TailWatchEngine

/// A driver for engine tests: stores every line it is given in `test_lines`, so a test can compare
/// the set of lines in the database with the set written (each exactly once).
/// Lines starting with `BAD` are rejected, lines starting with `#` ignored.
public final class RecordingDriver: LogDriver {
    private let insert: PreparedStatement
    /// Commits fail while this is above zero (each failure counts it down): a full disk, say.
    public let failingCommits: FailureCounter

    public static let migrations = MigrationSet(module: "TestLines", files: [
        (name: "0001_lines", sql: "CREATE TABLE test_lines (id INTEGER PRIMARY KEY, path TEXT NOT NULL, line TEXT NOT NULL);"),
    ])

    public static func configured(_ sources: [LogSource], failingCommits: FailureCounter = FailureCounter(0)) -> ConfiguredDriver {
        ConfiguredDriver(enabled: true, sources: sources) { _, db in try RecordingDriver(db: db, failingCommits: failingCommits) }
    }

    public init(db: Database, failingCommits: FailureCounter = FailureCounter(0)) throws {
        self.failingCommits = failingCommits
        insert = try PreparedStatement(db, sql: "INSERT INTO test_lines (path, line) VALUES (?, ?)")
    }

    public func flush(_ db: Database) throws {
        if failingCommits.take() { throw StoreError.sqlite(code: 13, message: "database or disk is full (test)", sql: "COMMIT") }
    }

    public func ingest(_ line: ByteLine, from source: SourceFile) throws -> LineOutcome {
        if line.hasPrefix("BAD") { return .rejected(RejectReason("test: starts with BAD")) }
        if line.hasPrefix("#") { return .ignored }
        insert.bind(1, source.path)
        insert.bind(2, line)
        try insert.run()
        return .stored(events: 1)
    }
}

/// Runs engines over real files into a real SQLite file in a temporary folder, the way the daemon
/// does, and reads back what they stored.
public final class EngineHarness: @unchecked Sendable {
    public let folder: TemporaryFolder
    public let databasePath: String
    public var settings: EngineSettings
    public let messages = LockedMessages()

    public init(folder: TemporaryFolder = TemporaryFolder()) {
        self.folder = folder
        self.databasePath = folder.file("tailwatch.sqlite3")
        self.settings = EngineSettings(database: databasePath, logFile: folder.file("tailwatchd.log"), pidFile: folder.file("pid"))
        settings.pollIntervalMilliseconds = 50
    }

    public func openDatabase() throws -> DatabaseQueue {
        try Store.openWriter(path: databasePath, modules: [engineMigrations, RecordingDriver.migrations])
    }

    /// A logger that keeps every message (for asserting on warnings).
    public func logger(_ label: String) -> Logger {
        let messages = self.messages
        var logger = Logger(label: label) { _ in CollectingLogHandler(messages: messages) }
        logger.logLevel = .trace
        return logger
    }

    /// A new engine (as after a restart) with the recording driver on `sources`.
    public func makeEngine(_ sources: [LogSource], database: DatabaseQueue? = nil, once: Bool = true, control: EngineControl = EngineControl(), failingCommits: FailureCounter = FailureCounter(0), maxOpenFiles: Int? = nil, rotationHold: Duration = .seconds(30)) throws -> Engine {
        var options = EngineOptions(once: once, maxOpenFiles: maxOpenFiles)
        options.rotationHold = rotationHold
        return try Engine(
            settings: settings, database: database ?? openDatabase(),
            drivers: [(name: "recorder", configured: RecordingDriver.configured(sources, failingCommits: failingCommits))],
            options: options, control: control, logger: logger("TailWatch")
        ) { self.logger($0) }
    }

    /// One engine over `sources` whose first `failing` commits fail (a full disk, say): runs it
    /// until a run succeeds. Returns how many runs failed with the commit's error.
    public func runThroughFailedCommits(_ sources: [LogSource], failing: Int) throws -> Int {
        let failures = FailureCounter(0)
        let engine = try makeEngine(sources, failingCommits: failures)
        failures.set(failing)
        var failed = 0
        while true {
            do {
                _ = try engine.run()
                return failed
            } catch is StoreError where failed < failing {
                failed += 1
            }
        }
    }

    /// Runs a fresh engine once over `sources` (a restart followed by a catch-up).
    @discardableResult
    public func runOnce(_ sources: [LogSource]) throws -> Engine {
        let engine = try makeEngine(sources)
        _ = try engine.run()
        return engine
    }

    /// The engine in daemon mode on a thread of its own (built there, as tailwatchd does); stop it
    /// with `stop()` on the result.
    public func startDaemon(_ sources: [LogSource], maxOpenFiles: Int? = nil, rotationHold: Duration = .seconds(30)) -> RunningEngine {
        let running = RunningEngine()
        let thread = Thread { [self] in
            defer { running.finished.signal() }
            do {
                _ = try makeEngine(sources, once: false, control: running.control, maxOpenFiles: maxOpenFiles, rotationHold: rotationHold).run()
            } catch {
                running.record(error)
            }
        }
        thread.start()
        return running
    }

    /// The lines stored from `path`, in insertion order.
    public func storedLines(from path: String) throws -> [String] {
        let queue = try openDatabase()
        return try queue.read { db in try String.fetchAll(db, sql: "SELECT line FROM test_lines WHERE path = ? ORDER BY id", arguments: [path]) }
    }

    /// Every stored line, in insertion order.
    public func storedLines() throws -> [String] {
        let queue = try openDatabase()
        return try queue.read { db in try String.fetchAll(db, sql: "SELECT line FROM test_lines ORDER BY id") }
    }
}

/// Messages logged during a test.
public final class LockedMessages: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []

    public init() {}

    public func append(_ s: String) {
        lock.lock()
        items.append(s)
        lock.unlock()
    }

    public var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return items
    }
}

struct CollectingLogHandler: LogHandler {
    let messages: LockedMessages
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        messages.append("[\(event.level)] \(event.message)")
    }
}

/// How many of the next commits fail (shared between a test and the driver it configures).
public final class FailureCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var remaining: Int

    public init(_ count: Int) { remaining = count }

    public func set(_ count: Int) {
        lock.lock()
        remaining = count
        lock.unlock()
    }

    /// True (and one fewer left) while failures remain.
    func take() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard remaining > 0 else { return false }
        remaining -= 1
        return true
    }
}
