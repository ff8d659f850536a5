import Foundation
import GRDB
import GRDBSQLite
import Logging

/// Copies committed pages from the WAL into the database file on a thread of its own, while the
/// engine goes on writing.
///
/// Why: SQLite checkpoints inside the commit that takes the WAL past its threshold, on the
/// committing thread. During a catch-up that is the engine's thread, and copying the pages and the
/// two fsyncs that go with it held every driver up for about a fifth of the time (a million
/// mainlog lines: 0.3 s of commits, most of it checkpointing). Here the writer's commits only wake
/// this thread, which checkpoints in PASSIVE mode (it never waits for, nor blocks, the writer or
/// readers).
///
/// The WAL only starts over when the writer begins a transaction after every frame was copied,
/// which never happens while the engine writes without pause. So once the WAL holds `limit`
/// frames, the commit waits for this thread and checkpoints itself, as SQLite alone would have:
/// the WAL stays bounded (`journal_size_limit` then trims the file). That commit holds the engine
/// up (about 85 ms: the last commit's pages copied, two fsyncs), so the limit is high: 256 MiB of
/// pages, reached every 3 million mainlog lines of a catch-up (at 64 MiB, every 750,000).
///
/// Unchecked: the thread's state is read and written with `condition` locked; the hook runs on
/// the writer's thread, and is removed (`stop`) before this object goes.
public final class BackgroundCheckpoints: @unchecked Sendable {
    /// Frames in the WAL (pages committed since it last started over) that call for a checkpoint
    /// (SQLite's default is 1000).
    private let threshold: Int32
    /// Frames past which the writer checkpoints itself.
    private let limit: Int32

    private let connection: DatabaseQueue
    private let writer: OpaquePointer
    private let logger: Logger
    private let condition = NSCondition()
    private var requested = false
    private var running = false
    private var stopping = false
    private let done = DispatchSemaphore(value: 0)

    /// Takes over the checkpoints of `writer`'s connection to the database at `path`. By default a
    /// checkpoint is due at SQLite's own threshold, and the writer checkpoints itself once the WAL
    /// holds 256 MiB of the database's pages (after which the file is cut back to the journal
    /// size limit `Store` sets); `limit` sets that in frames instead.
    public init(writer: Database, path: String, logger: Logger, threshold: Int32 = 1000, limit: Int32? = nil) throws {
        // In frames, which are pages: 256 MiB is 8,192 of a new database's, 16,384 of an older one's.
        let pageSize = max(512, try Int.fetchOne(writer, sql: "PRAGMA page_size") ?? Store.pageSize)
        let limit = limit ?? Int32((256 << 20) / pageSize)
        precondition(threshold > 0 && limit >= threshold, "a checkpoint threshold below the limit")
        self.threshold = threshold
        self.limit = limit
        guard let handle = writer.sqliteConnection else { throw StoreError.cannotOpen(path: path, reason: "the writer's connection is closed") }
        self.writer = handle
        self.logger = logger
        var config = Configuration()
        config.label = "checkpoints"
        connection = try DatabaseQueue(path: path, configuration: config)
        let thread = Thread { [self] in loop() }
        thread.name = "checkpoints"
        thread.start()
        sqlite3_wal_hook(handle, { context, db, name, frames in
            guard let context, let db else { return SQLITE_OK }
            Unmanaged<BackgroundCheckpoints>.fromOpaque(context).takeUnretainedValue().committed(db, name, frames)
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// After each commit of the writer, on its thread.
    private func committed(_ db: OpaquePointer, _ name: UnsafePointer<CChar>?, _ frames: Int32) {
        guard frames >= threshold else { return }
        condition.lock()
        if frames < limit {
            requested = true
            condition.signal()
            condition.unlock()
            return
        }
        while running { condition.wait() }
        running = true
        requested = false
        condition.unlock()
        // No other checkpoint runs now: this one copies the rest (unless a reader still holds an
        // older snapshot), and the next transaction starts the WAL over.
        var left: Int32 = 0, copied: Int32 = 0
        let code = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, &left, &copied)
        if code != SQLITE_OK || copied < left {
            logger.debug("checkpoint at \(frames) WAL frames: code \(code), \(copied) of \(left) frames copied")
        }
        condition.lock()
        running = false
        condition.broadcast()
        condition.unlock()
    }

    private func loop() {
        condition.lock()
        while true {
            while (!requested || running) && !stopping { condition.wait() }
            if stopping { break }
            requested = false
            running = true
            condition.unlock()
            do {
                try connection.inDatabase { db in _ = try db.checkpoint(.passive) }
            } catch {
                logger.debug("background checkpoint: \(error)")
            }
            condition.lock()
            running = false
            condition.broadcast()
        }
        condition.unlock()
        done.signal()
    }

    /// Gives the checkpoints back to the writer's connection (SQLite's own, at its default
    /// threshold of 1,000 frames) and ends the thread. Call on the writer's thread, before the
    /// writer closes.
    public func stop() {
        sqlite3_wal_autocheckpoint(writer, 1000)
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
        done.wait()
        try? connection.close()
    }
}
