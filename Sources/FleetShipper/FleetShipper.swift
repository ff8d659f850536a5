import FleetStore
import Foundation
import GRDB
import Logging
import Synchronization
import TailWatchEngine

/// Ships what this server committed to the fleet's PostgreSQL, on a thread of its own.
///
/// Why its own thread and its own SQLite connection: libpq blocks while PostgreSQL commits, and a
/// fleet database that is slow, restarting or away for hours must never delay ingestion. The
/// shipper reads the outbox, sends a batch in one PostgreSQL transaction, and only after that
/// commit deletes the batch from the outbox in a short SQLite transaction of its own. Killed
/// between the two, it sends the same batch again at start: the same absolute values and
/// versions, which PostgreSQL's upsert leaves as they are.
public final class FleetShipper: Sendable {
    /// What `[fleet]` says, checked.
    public struct Target: Sendable {
        public var url: String
        /// The file whose first line is the password; nil: libpq's own sources (`PGPASSWORD`, `~/.pgpass`).
        public var passwordFile: String?
        public var host: String
        /// Rows per table and batch.
        public var batchRows: Int

        public init(url: String, passwordFile: String?, host: String, batchRows: Int = 5000) {
            self.url = url
            self.passwordFile = passwordFile
            self.host = host
            self.batchRows = batchRows
        }

        /// Read when connecting, not with the configuration: a user who may run the local
        /// reports need not be able to read the fleet's password.
        public func password() throws(PostgresError) -> String? {
            guard let passwordFile else { return nil }
            guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8),
                  let first = text.split(separator: "\n", omittingEmptySubsequences: false).first?.trimmingCharacters(in: .whitespacesAndNewlines),
                  !first.isEmpty else {
                throw .connection("cannot read the password from \(passwordFile) ([fleet] password_file; its first line is the password)")
            }
            return first
        }

        /// Connects to the fleet's PostgreSQL as this target says.
        public func connect(applicationName: String = "tailwatchd") throws(PostgresError) -> PostgresConnection {
            try PostgresConnection(url: url, password: try password(), applicationName: applicationName)
        }
    }

    let target: Target
    let databasePath: String
    let modules: [MigrationSet]
    let logger: Logger
    /// The counter tables made at run time (custom drivers'), as they are on the file now.
    let followed: @Sendable (Database) throws -> [FleetOutbox.FollowedTable]
    private let stopped = Mutex(false)

    public init(
        target: Target, databasePath: String, modules: [MigrationSet], logger: Logger,
        followed: @escaping @Sendable (Database) throws -> [FleetOutbox.FollowedTable] = { _ in [] }
    ) {
        self.target = target
        self.databasePath = databasePath
        self.modules = modules
        self.logger = logger
        self.followed = followed
    }

    public func stop() { stopped.withLock { $0 = true } }
    private var isStopped: Bool { stopped.withLock { $0 } }

    /// Ships until `stop()`. Failures are logged (each new one at once, the same one again every
    /// ten minutes) and retried with a growing pause, up to 30 s.
    public func run() {
        var session: (writer: FleetWriter, databaseID: String)?
        var local: DatabaseQueue?
        var pause = 1.0
        var failure: (message: String, since: Date, logged: Date)?
        // SQLite's schema version when every counter table was last found followed.
        var followedSchema: Int?
        while !isStopped {
            do {
                let queue = try local ?? Store.openWriter(path: databasePath, modules: modules)
                local = queue
                if session == nil { session = try connect(queue) }
                guard let (writer, databaseID) = session else { continue }
                // A counter table a driver made since (a new definition, a changed one) gets its
                // triggers and rows before anything else ships: the batch is read in the same
                // snapshot that found every table followed, so a driver's new schema never
                // reaches the fleet before its rows under their new names. The tables are looked
                // at only when SQLite's schema changed since they were last all followed.
                let (batch, schema) = try queue.read { db -> ([(table: ShippedTable, rows: [ShippedRow])]?, Int) in
                    let schema = try Int.fetchOne(db, sql: "PRAGMA schema_version") ?? 0
                    if schema != followedSchema, try FleetOutbox.needsFollowing(db, followed(db)) { return (nil, schema) }
                    return (try FleetOutbox.nextBatch(db, limit: target.batchRows), schema)
                }
                guard let batch else {
                    try FleetOutbox.follow(queue, try queue.read(followed))
                    continue
                }
                followedSchema = schema
                if let f = failure {
                    logger.info("fleet: shipping again after \(Int(Date().timeIntervalSince(f.since))) s")
                    failure = nil
                }
                pause = 1
                if batch.isEmpty {
                    sleep(seconds: 1)
                    continue
                }
                try writer.ship(batch, databaseID: databaseID)
                try queue.write { db in try FleetOutbox.markShipped(db, batch) }
            } catch {
                let message: String
                if let error = error as? PostgresError {
                    message = error.description
                    // Lost connections, a PostgreSQL restart, a host name taken over: start again
                    // from connecting (and registering).
                    session = nil
                } else {
                    message = "fleet: the local database: \(error)"
                }
                let now = Date()
                if failure == nil || failure!.message != message || now.timeIntervalSince(failure!.logged) >= 600 {
                    logger.error("fleet: \(message); retrying (what is not shipped waits in the outbox)")
                    failure = (message, failure?.since ?? now, now)
                }
                sleep(seconds: pause)
                pause = min(pause * 2, 30)
            }
        }
    }

    /// Connects, brings the fleet schema up to date and registers this file under the host name.
    private func connect(_ queue: DatabaseQueue) throws -> (FleetWriter, String) {
        let connection = try target.connect()
        try FleetSchema.migrate(connection)
        let writer = FleetWriter(connection: connection, host: target.host)
        let databaseID = try queue.read { db in try FleetOutbox.databaseID(db) }
        if try writer.registeredDatabase() != databaseID {
            // First the whole file into the outbox, then the registration (which empties the
            // host's rows there): killed in between, the next start does both again.
            try FleetOutbox.queueEverything(queue, followed: followed)
            try writer.register(databaseID: databaseID)
            logger.info("fleet: registered as '\(target.host)' (database \(databaseID)); shipping every row of this server")
        } else if try queue.read(FleetOutbox.requeuePending) {
            // Stopped while queueing every row again (the fleet had forgotten this host's rows
            // for it): queue them all once more before shipping any.
            try FleetOutbox.queueEverything(queue, followed: followed)
            logger.info("fleet: queued every row of this server again (the last attempt was cut short)")
        }
        let remote = try writer.marks()
        if try queue.read({ db in try FleetOutbox.disagrees(db, remote: remote) }) {
            // The fleet forgets this host first: killed before the second step, the next start
            // finds PostgreSQL behind this file's marks and does both again.
            try writer.reset()
            try FleetOutbox.queueEverything(queue, followed: followed)
            logger.warning("fleet: this server and the fleet's PostgreSQL disagree on what was shipped (a database restored on one side); shipping every row of this server again")
        }
        logger.info("fleet: connected to PostgreSQL\(connection.usesTLS ? " over TLS" : ""), schema version \(FleetSchema.latestVersion), host '\(target.host)'")
        return (writer, databaseID)
    }

    private func sleep(seconds: Double) {
        let end = Date().addingTimeInterval(seconds)
        while !isStopped && Date() < end { Thread.sleep(forTimeInterval: 0.05) }
    }
}
