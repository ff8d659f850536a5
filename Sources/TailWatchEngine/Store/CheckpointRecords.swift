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
