import GRDB

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
