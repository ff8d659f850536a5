import Foundation
import GRDB
import Logging

/// The end of a batch: the commit of the drivers' work with the files' positions and the counters,
/// the rollback and rewind after a failure, and the drivers' periodic ticks with retention.
extension Engine {
    /// Commits the open batch: the drivers' aggregates, every moved file position, and the counters.
    func commit(_ db: Database) throws {
        try settleDrivers()
        // Only files read since the last commit can have moved (a suspended one is at its committed position).
        let moved = followed.touched.sorted().compactMap { index -> (Int, Checkpoint)? in
            guard let here = files[index].checkpointHere(), here != files[index].committed else { return nil }
            return (index, here)
        }
        guard inTransaction || !moved.isEmpty else {
            // Every touched file is where it was committed: none needs looking at again.
            followed.committed(reading: reading)
            return
        }
        let started = clock.now
        if !inTransaction { try begin(db) }
        for runtime in runtimes { try runtime.driver.flush(db) }
        let now = Int64(Date().timeIntervalSince1970)
        for (index, checkpoint) in moved {
            try CheckpointRecords.save(checkpoint, replacing: files[index].committed, path: files[index].path, driver: runtimes[fileDriver[index]].name, now: now, db: db)
        }
        for runtime in runtimes where !runtime.pending.isZero {
            try DriverCounterRecords.add(runtime.pending, driver: runtime.name, now: now, db: db)
        }
        try db.commit()
        inTransaction = false
        batchEvents = 0
        for (index, checkpoint) in moved { files[index].committed = checkpoint }
        followed.committed(reading: reading)
        health.commitSucceeded()
        let took = clock.now - started
        health.recordCommit(seconds: Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18)
        let committedAt = Date()
        for (index, runtime) in runtimes.enumerated() where !runtime.pending.isZero {
            lastCommitTimes[index] = committedAt
        }
        afterCommit.committed()
        for runtime in runtimes {
            runtime.total.linesRead += runtime.pending.linesRead
            runtime.total.events += runtime.pending.events
            runtime.total.ignored += runtime.pending.ignored
            runtime.total.rejected += runtime.pending.rejected
            runtime.pending = DriverCounters()
        }
    }

    /// After a failed commit: roll back, let drivers forget the batch, and reopen every file at its
    /// committed position, so the same lines are read again once the database accepts writes.
    func abandonBatch(_ db: Database, after error: any Error) throws {
        // A driver's work left running stops here; its failure is the batch's, already in hand.
        try? settleDrivers()
        if db.isInsideTransaction { try? db.rollback() }
        inTransaction = false
        batchEvents = 0
        for runtime in runtimes {
            runtime.driver.rollback()
            runtime.pending = DriverCounters()
        }
        afterCommit.rolledBack()
        // A position saved differently from what this engine believes (which only a bug or a
        // second writer makes): take the saved one, so that the retry does not fail the same way
        // for ever.
        if case StoreError.checkpointMoved(let driver, let path)? = error as? StoreError,
           let index = files.indices.first(where: { runtimes[fileDriver[$0]].name == driver && files[$0].path == path }) {
            let saved = (try? CheckpointRecords.load(db, driver: driver))?[path]
            logger.warning("\(path): taking the position saved in the database (\(saved.map { "byte \($0.offset)" } ?? "none")) for \(driver)")
            files[index].resume(from: saved)
        }
        for file in files { file.rewind() }
        followed.touchAll()
    }

    func tickDrivers(_ db: Database) throws {
        try settleDrivers()
        lastTick = clock.now
        var boards = runtimes.enumerated().map { index, runtime in
            EngineHealth.Driver(name: runtime.name, files: 0, bytesBehind: 0, lastCommit: lastCommitTimes[index])
        }
        for (index, file) in files.enumerated() {
            boards[fileDriver[index]].files += 1
            boards[fileDriver[index]].bytesBehind += file.knownBytesBehind
        }
        health.update(boards)
        for runtime in runtimes {
            try db.inTransaction(.immediate) {
                try runtime.driver.tick(db, now: Date())
                return .commit
            }
            health.commitSucceeded()
            afterCommit.committed()
            try retention.step(db, rules: runtime.driver.retention, driver: runtime.name, logger: runtime.logger)
        }
        for timed in timedRetention {
            try retention.step(db, rules: timed.rules, driver: timed.name, logger: timed.logger)
        }
        // Free pages left by purges go back to the file system, 2,048 pages (64 MiB of 32 KiB pages) at a time.
        // Housekeeping only: a failure is logged and tried again later, never taken for a failed
        // commit (which would slow ingestion down).
        if lastReclaim.map({ clock.now - $0 >= .seconds(10) }) ?? true {
            lastReclaim = clock.now
            do {
                try db.inTransaction(.immediate) {
                    let freed = try Store.reclaimFreePages(db, maxPages: 2048)
                    if freed > 0 { logger.debug("gave \(freed) free database pages back to the file system") }
                    return .commit
                }
            } catch {
                logger.warning("giving free database pages back failed (will retry): \(error)")
            }
        }
    }
}
