import GRDB

/// The `checkpoints` table: where each driver stands in each file, written in the batch's
/// transaction with the lines' effects.
enum CheckpointRecords {
    /// Every saved position of `driver`, by path.
    static func load(_ db: Database, driver: String) throws -> [String: Checkpoint] {
        var result: [String: Checkpoint] = [:]
        let rows = try Row.fetchAll(db, sql: """
            SELECT path, device, inode, offset, head_length, head_hash, tail_length, tail_hash
            FROM checkpoints WHERE driver = ?
            """, arguments: [driver])
        for row in rows {
            let device: Int64 = row["device"], inode: Int64 = row["inode"], headHash: Int64 = row["head_hash"], tailHash: Int64 = row["tail_hash"]
            result[row["path"]] = Checkpoint(
                device: UInt64(bitPattern: device), inode: UInt64(bitPattern: inode), offset: row["offset"],
                head: ContentHash(length: row["head_length"], hash: UInt64(bitPattern: headHash)),
                tail: ContentHash(length: row["tail_length"], hash: UInt64(bitPattern: tailHash)))
        }
        return result
    }

    /// Writes a file's position over `previous` (the one this process committed, nil for a first
    /// one), refusing to overwrite a position another process moved: `StoreError.checkpointMoved`.
    static func save(_ checkpoint: Checkpoint, replacing previous: Checkpoint?, path: String, driver: String, now: Int64, db: Database) throws {
        let arguments: StatementArguments = [
            driver, path, Int64(bitPattern: checkpoint.device), Int64(bitPattern: checkpoint.inode), checkpoint.offset,
            checkpoint.head.length, Int64(bitPattern: checkpoint.head.hash), checkpoint.tail.length,
            Int64(bitPattern: checkpoint.tail.hash), now,
        ]
        if let previous {
            try db.execute(sql: """
                UPDATE checkpoints SET device = ?3, inode = ?4, offset = ?5, head_length = ?6, head_hash = ?7,
                    tail_length = ?8, tail_hash = ?9, updated_at = ?10
                WHERE driver = ?1 AND path = ?2 AND offset = ?11 AND inode = ?12 AND tail_hash = ?13
                """, arguments: arguments + [previous.offset, Int64(bitPattern: previous.inode), Int64(bitPattern: previous.tail.hash)])
            if db.changesCount != 1 { throw StoreError.checkpointMoved(driver: driver, path: path) }
        } else {
            do {
                try db.execute(sql: """
                    INSERT INTO checkpoints (driver, path, device, inode, offset, head_length, head_hash, tail_length, tail_hash, updated_at)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                    """, arguments: arguments)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                throw StoreError.checkpointMoved(driver: driver, path: path)
            }
        }
    }
}

/// The `driver_stats` and `rejected_lines` tables: each driver's running totals (what
/// `--status=long` shows), added to in the batch's transaction.
enum DriverCounterRecords {
    static func add(_ counters: DriverCounters, driver: String, now: Int64, db: Database) throws {
        try db.execute(sql: """
            INSERT INTO driver_stats (driver, lines_read, events_written, lines_ignored, lines_rejected, last_commit)
            VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (driver) DO UPDATE SET lines_read = lines_read + excluded.lines_read,
                events_written = events_written + excluded.events_written,
                lines_ignored = lines_ignored + excluded.lines_ignored,
                lines_rejected = lines_rejected + excluded.lines_rejected,
                last_commit = excluded.last_commit
            """, arguments: [driver, counters.linesRead, counters.events, counters.ignored, counters.rejected, now])
        for (reason, entry) in counters.rejectedByReason {
            try db.execute(sql: """
                INSERT INTO rejected_lines (driver, reason, count, last_path, last_offset, last_seen) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (driver, reason) DO UPDATE SET count = count + excluded.count,
                    last_path = excluded.last_path, last_offset = excluded.last_offset, last_seen = excluded.last_seen
                """, arguments: [driver, reason.description, entry.count, entry.path, entry.offset, now])
        }
    }
}
