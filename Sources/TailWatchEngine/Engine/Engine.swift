import Foundation
import GRDB
import Logging

/// The loop at the heart of `tailwatchd`: tail every file of every enabled driver, hand each line to
/// its driver inside an open write transaction, and commit the drivers' effects together with the
/// files' new positions.
///
/// The exactly-once argument, in full: a line's effect is written inside transaction T; the file's
/// position past that line is written inside the same T; SQLite makes T atomic and durable once
/// committed. After a crash, the engine restarts from the committed positions, so lines of an
/// uncommitted T are read again and lines of a committed T are not. Every file-level event
/// (rotation, truncation) is decided by `TailedFile` at end of file, by content, never by name.
///
/// Threading: an engine is built and run on one thread (the daemon gives it its own); other threads
/// reach it only through `EngineControl`.
public final class Engine {
    private let settings: EngineSettings
    private let queue: DatabaseQueue
    private let logger: Logger
    private let options: EngineOptions
    private let control: EngineControl
    private let runtimes: [DriverRuntime]
    private let followed = FollowedFiles()
    private var files: [TailedFile] { followed.files }
    /// Index into `runtimes` for each entry of `files`.
    private var fileDriver: [Int] { followed.driverOf }
    /// The read buffers all files share (a file holds one only while it has bytes to read).
    private let readBuffers = ReadBufferPool()
    private let descriptors: OpenDescriptors
    private let watcher: FileWatcher
    /// The file being read (it stays touched across a commit in the middle of its lines).
    private var reading: Int?
    /// Folders whose entries changed (created, renamed, deleted) since the last rescan.
    private var foldersToRescan: Set<String> = []
    /// Each folder source's folder with its modification time at its last listing.
    private var folderTimes: [String: timespec] = [:]
    /// Folder logs found missing from their folder's listing, to let go of once read to their end.
    private var goneCandidates: Set<FollowedFiles.DriverPath> = []
    /// How long a live batch stays open for more appends before it commits (see `runLoop`).
    private let commitLinger: Duration = .milliseconds(20)
    /// Stat looks per poll interval by the sweep (the safety net behind the folder watches).
    private let sweepBudget = 1000
    private let warnings = RateLimitedWarnings()
    private var inTransaction = false
    private var batchEvents = 0
    /// `batch_events` while following live appends; `catchup_batch_events` while a backlog of
    /// more than a read chunk waits (a commit costs the same for 1,000 rows as for 50,000, and
    /// during a catch-up nobody waits for the individual line). The time limit holds in both.
    private var batchLimit = 1000
    // Deadlines and intervals run on the monotonic clock; wall-clock time is only stamped into rows.
    private let clock = ContinuousClock()
    private var batchStarted: ContinuousClock.Instant
    private var traceRemaining: Int
    private var nextFileID = 0
    private var lastRescan: ContinuousClock.Instant
    private var lastFolderLook: ContinuousClock.Instant
    private var lastSweep: ContinuousClock.Instant
    private var lastTick: ContinuousClock.Instant?
    /// How each driver is doing, for timed work that watches the engine (given by the supervisor).
    private let health: EngineHealth
    /// Effects the drivers registered for after the open transaction commits.
    private let afterCommit: AfterCommit
    private let retention: RetentionPurge
    /// Operators' commands the drivers started; seen through before the engine goes.
    private let commands: CommandRunner
    private var lastReclaim: ContinuousClock.Instant?
    private var lastCommitTimes: [Date?]
    /// What the engine purges for enabled timed work (it runs beside the engine, in the supervisor).
    private let timedRetention: [(name: String, rules: [RetentionRule], logger: Logger)]
    /// Enabled drivers that could not start, with the reason.
    private let failedDrivers: [(name: String, reason: String)]
    /// `--once`: how long it waits for paused drivers (see `waitForPausedDrivers`).
    private var onceWaitDeadline: ContinuousClock.Instant?

    /// Builds every enabled driver on the calling thread and opens them on `database`.
    public init(
        settings: EngineSettings, database: DatabaseQueue, drivers: [(name: String, configured: ConfiguredDriver)],
        options: EngineOptions, control: EngineControl, health: EngineHealth = EngineHealth(), logger: Logger,
        driverLogger: (String) -> Logger
    ) throws {
        self.settings = settings
        self.health = health
        self.queue = database
        self.logger = logger
        self.options = options
        self.control = control
        self.traceRemaining = options.traceLines
        self.watcher = FileWatcher(wake: control.wakeHandle)
        // The soft limit is raised to the hard one; past what that leaves for logs, idle files are
        // closed (and reopened by content when they change).
        let budget = OpenDescriptors.raiseLimitAndBudget()
        self.descriptors = OpenDescriptors(budget: options.maxOpenFiles ?? budget)
        let started = clock.now
        batchStarted = started
        lastRescan = started
        lastFolderLook = started
        lastSweep = started
        // A driver that cannot be built or opened (a custom driver whose table is not what it
        // expects, say) is left out, logged and reported, and the others run; only when none can
        // start is that an error of the engine.
        let afterCommit = AfterCommit(logger: logger)
        self.afterCommit = afterCommit
        let commands = CommandRunner(logger: logger)
        self.commands = commands
        self.retention = RetentionPurge(once: options.once)
        var runtimes: [DriverRuntime] = []
        var failed: [(name: String, error: any Error)] = []
        var timedRetention: [(name: String, rules: [RetentionRule], logger: Logger)] = []
        for (name, configured) in drivers where configured.enabled {
            let driverLog = driverLogger(name)
            switch configured.work {
            case .timed(let rules, _):
                timedRetention.append((name, rules, driverLog))
            case .lines(_, let make):
                let context = DriverContext(
                    settings: settings, logger: driverLog, debug: options.debug, once: options.once, health: health, afterCommit: afterCommit,
                    commands: commands)
                do {
                    let driver = try queue.inDatabase { db in try make(context, db) }
                    runtimes.append(DriverRuntime(name: name, driver: driver, configured: configured, logger: driverLog))
                } catch {
                    driverLog.error("not started: \(error); its files are left where they are until it can start")
                    failed.append((name, error))
                }
            }
        }
        self.timedRetention = timedRetention
        if runtimes.isEmpty, let first = failed.first { throw first.error }
        self.failedDrivers = failed.map { ($0.name, "\($0.error)") }
        self.runtimes = runtimes
        lastCommitTimes = Array(repeating: nil, count: runtimes.count)
        try queue.inDatabase { db in try loadFiles(db) }
    }

    deinit {
        if !commands.drain() { logger.warning("operators' commands still running at shutdown") }
        for runtime in runtimes { runtime.driver.close() }
    }

    // MARK: Files

    private func loadFiles(_ db: Database) throws {
        for (index, runtime) in runtimes.enumerated() {
            let saved = try CheckpointRecords.load(db, driver: runtime.name)
            // One file per path and driver: a path named twice (a file also matched by a folder's
            // pattern) would be read twice and its one saved position written twice.
            var seen = Set<String>()
            for (sourceIndex, source) in runtime.configured.sources.enumerated() {
                for path in expand(source) where seen.insert(path).inserted {
                    addFile(path: path, driver: index, sourceIndex: sourceIndex, checkpoint: saved[path])
                }
            }
        }
        lastRescan = clock.now
    }

    private func addFile(path: String, driver index: Int, sourceIndex: Int, checkpoint: Checkpoint?) {
        let runtime = runtimes[index]
        let file = TailedFile(
            path: path, source: SourceFile(id: nextFileID, path: path, sourceIndex: sourceIndex),
            maxLine: settings.maxLineBytes, rotationGrace: options.once ? 0 : 2, rotationHold: options.rotationHold, spares: readBuffers, descriptors: descriptors
        ) { [logger = runtime.logger] notice in
            switch notice {
            case .truncated, .positionLost, .readError, .lostInCopyTruncate, .leftRenamed: logger.warning("\(notice)")
            default: logger.info("\(notice)")
            }
        }
        nextFileID += 1
        // Past the descriptor budget, a file is opened when it is first read (after others were closed).
        if descriptors.count < descriptors.budget {
            file.resume(from: checkpoint)
        } else {
            file.postpone(from: checkpoint)
        }
        followed.add(file, driver: index)
        watcher.watch(folder: FollowedFiles.folder(of: path))
    }

    private func expand(_ source: LogSource) -> [String] {
        switch source {
        case .file(let path):
            return [path]
        case .folder(let folder, let pattern):
            watcher.watch(folder: folder)
            folderTimes[folder] = Self.modificationTime(of: folder)
            return FolderListing.logs(in: folder, matching: pattern)
        }
    }

    /// Picks up files that appeared in `only` (every folder source when nil) since the last scan,
    /// and lets go of folder logs that were deleted after being read to their end.
    ///
    /// A file that appears at a path that has a saved position resumes from it: a log let go of
    /// between logrotate's rename and create is the same log, and its saved position (which may
    /// now be in the rotated copy) must be both honoured and updated, never inserted a second time.
    /// O(files in the folder) with set lookups: a domlogs folder of 20,000 entries costs one listing.
    private func rescanFolders(_ db: Database, only: Set<String>?) throws {
        lastRescan = clock.now
        let replaced = watcher.forgetReplacedFolders()
        for folder in followed.folders { watcher.watch(folder: folder) }
        for (index, runtime) in runtimes.enumerated() {
            var saved: [String: Checkpoint]?
            for (sourceIndex, source) in runtime.configured.sources.enumerated() {
                guard case .folder(let folder, _) = source,
                      only.map({ $0.contains(folder) }) ?? true || replaced.contains(folder) else { continue }
                let listed = expand(source)
                for path in listed where followed.index(driver: index, path: path) == nil {
                    if saved == nil { saved = try CheckpointRecords.load(db, driver: runtime.name) }
                    let checkpoint = saved?[path]
                    if checkpoint == nil { runtime.logger.info("new log \(path); reading it from the start") }
                    addFile(path: path, driver: index, sourceIndex: sourceIndex, checkpoint: checkpoint)
                }
                let present = Set(listed)
                for (fileIndex, file) in files.enumerated()
                where fileDriver[fileIndex] == index && file.source.sourceIndex == sourceIndex && !present.contains(file.path) {
                    goneCandidates.insert(FollowedFiles.DriverPath(driver: index, path: file.path))
                }
            }
        }
        letGoOfFinishedFiles()
    }

    /// Folder logs that left their folder: once read to their end and committed, their descriptors go.
    private func letGoOfFinishedFiles() {
        var gone = Set<Int>()
        for candidate in goneCandidates {
            guard let index = followed.index(driver: candidate.driver, path: candidate.path) else {
                goneCandidates.remove(candidate)
                continue
            }
            if files[index].isFinishedAndGone {
                runtimes[candidate.driver].logger.info("\(candidate.path) is gone and fully read; no longer followed")
                gone.insert(index)
                goneCandidates.remove(candidate)
            } else if FileIdentity.of(path: candidate.path) != nil {
                goneCandidates.remove(candidate)
            }
        }
        followed.remove(gone)
    }

    /// Folder sources whose folder changed (or cannot be watched) since it was last listed: a
    /// `stat` of each folder, the safety net behind the watches' create/rename/delete events.
    private func foldersChangedSinceListing() -> Set<String> {
        var changed = Set<String>()
        for (folder, time) in folderTimes {
            let now = Self.modificationTime(of: folder)
            if now.tv_sec != time.tv_sec || now.tv_nsec != time.tv_nsec || !watcher.isWatched(folder) { changed.insert(folder) }
        }
        return changed
    }

    private static func modificationTime(of folder: String) -> timespec {
        var st = stat()
        return stat(folder, &st) == 0 ? st.st_mtim : timespec(tv_sec: -1, tv_nsec: 0)
    }

    // MARK: Running

    /// Runs until caught up (`--once`), a stop or a reload is requested. Everything read is committed
    /// before it returns; a failure to commit is retried (daemon) or thrown (`--once`).
    public func run() throws -> EngineExit {
        try queue.inDatabase { db in try runLoop(db) }
    }

    /// What each driver did since this engine started.
    public var summaries: [DriverSummary] {
        runtimes.map { DriverSummary(driver: $0.name, linesRead: $0.total.linesRead, events: $0.total.events, ignored: $0.total.ignored, rejected: $0.total.rejected) }
            + failedDrivers.map { DriverSummary(driver: $0.name, linesRead: 0, events: 0, ignored: 0, rejected: 0, failure: $0.reason) }
    }

    private func runLoop(_ db: Database) throws -> EngineExit {
        try rescanFolders(db, only: nil)
        followed.markAll()
        try tickDrivers(db)
        let progress = options.showProgress ? CatchUpProgress(total: files.reduce(0) { $0 + $1.bytesBehind }) : nil
        var failures = 0
        while true {
            do {
                var moreToRead = false
                let round = followed.takeRound()
                for (position, index) in round.enumerated() {
                    if control.stopRequested {
                        for rest in round[position...] { followed.markDue(rest) }
                        break
                    }
                    guard runtimes[fileDriver[index]].driver.acceptsLines else {
                        // Its driver is paused: the file waits, due, for the driver to take lines again.
                        followed.markDue(index)
                        continue
                    }
                    if files[index].suspended != nil { try makeRoomForOneMoreFile(db) }
                    followed.willRead(index)
                    reading = index
                    let more = try pump(db, fileIndex: index)
                    reading = nil
                    followed.didRead(index, more: more)
                    if more { moreToRead = true }
                    if inTransaction && clock.now - batchStarted >= .milliseconds(settings.batchIntervalMilliseconds) {
                        try commit(db)
                    }
                }
                progress?.update(read: files.reduce(0) { $0 + $1.consumedOffset }, lines: runtimes.reduce(0) { $0 + $1.total.linesRead + $1.pending.linesRead })
                // Following live appends, a batch stays open a few milliseconds for the next
                // writes (a busy server writes a line every millisecond, each its own wake-up):
                // one commit then covers them all. `--once` commits as soon as it is caught up.
                let lingering = !options.once && inTransaction && clock.now - batchStarted < commitLinger
                if (!moreToRead && !lingering) || control.stopRequested { try commit(db) }
                if descriptors.overBudget { try makeRoomForOneMoreFile(db) }
                failures = 0
                if control.stopRequested {
                    progress?.finish()
                    return .finished
                }
                if control.takeReload() {
                    try commit(db)
                    return .reloadRequested
                }
                if options.once && !moreToRead && !waitForPausedDrivers() {
                    try tickDrivers(db)
                    progress?.finish()
                    return .finished
                }
                if !options.once, lastTick.map({ clock.now - $0 >= .seconds(1) }) ?? true {
                    try commit(db)
                    try tickDrivers(db)
                }
                if moreToRead { continue }
                let lingerLeft = inTransaction ? commitLinger - (clock.now - batchStarted) : .zero
                _ = watcher.wait(milliseconds: inTransaction ? max(1, Int((lingerLeft / .milliseconds(1)).rounded(.up))) : settings.pollIntervalMilliseconds)
                noteChanges()
                if clock.now - lastRescan >= .seconds(1) {
                    if !foldersToRescan.isEmpty {
                        let folders = foldersToRescan
                        foldersToRescan = []
                        try rescanFolders(db, only: folders)
                    } else if !goneCandidates.isEmpty {
                        lastRescan = clock.now
                        letGoOfFinishedFiles()
                    }
                }
            } catch let paused as DriverPaused {
                // One driver cannot go on for now: redo the batch without it (its files wait).
                reading = nil
                try abandonBatch(db, after: paused)
                logger.debug("batch rolled back and files rewound: \(paused)")
            } catch {
                reading = nil
                try abandonBatch(db, after: error)
                health.commitFailed("\(error)")
                failures += 1
                if options.once { throw error }
                let delay = min(30.0, pow(2.0, Double(min(failures, 5))))
                logger.error("commit failed: \(error); positions were not advanced, retrying in \(Int(delay)) s")
                _ = watcher.wait(milliseconds: Int(delay * 1000))
                if control.stopRequested { return .finished }
            }
        }
    }

    /// After a wait: the files the watches named become due; folders whose entries changed are
    /// listed again (at most once a second: a busy folder changes all the time); the sweep looks
    /// at its next share of files; and every 10 s a `stat` of each folder catches what the
    /// watches missed.
    private func noteChanges() {
        let changes = watcher.takeChanges()
        if changes.overflowed {
            logger.notice("the kernel's inotify queue overflowed; looking at every file")
            followed.markAll()
            foldersToRescan.formUnion(folderTimes.keys)
        } else {
            followed.markChanged(changes.paths)
            foldersToRescan.formUnion(changes.structural)
        }
        let now = clock.now
        if now - lastSweep >= .milliseconds(settings.pollIntervalMilliseconds) {
            lastSweep = now
            followed.sweep(budget: sweepBudget)
        }
        if now - lastFolderLook >= .seconds(10) {
            lastFolderLook = now
            foldersToRescan.formUnion(foldersChangedSinceListing())
        }
    }

    /// Closes idle files until the open ones are a tenth under the descriptor budget; commits
    /// first when every open file has an uncommitted position (a catch-up of more files than the
    /// budget), so that none is closed before its position is saved.
    private func makeRoomForOneMoreFile(_ db: Database) throws {
        guard descriptors.count >= descriptors.budget else { return }
        let target = descriptors.budget - max(1, descriptors.budget / 10)
        if followed.suspendIdle(descriptors: descriptors, target: target) == 0 {
            try commit(db)
            _ = followed.suspendIdle(descriptors: descriptors, target: target)
        }
    }

    /// `--once` and a paused driver (its helper program restarting) with lines left: wait for it
    /// (polling), 30 s at most in all, so that a catch-up is not cut short by a restart. Returns
    /// true while waiting.
    private func waitForPausedDrivers() -> Bool {
        let waiting = files.indices.contains { !runtimes[fileDriver[$0]].driver.acceptsLines && files[$0].bytesBehind > 0 }
        guard waiting, !control.stopRequested else { return false }
        let deadline = onceWaitDeadline ?? clock.now + .seconds(30)
        onceWaitDeadline = deadline
        guard clock.now < deadline else {
            logger.warning("a driver's helper program keeps failing; its remaining lines are left for the next run")
            return false
        }
        _ = watcher.wait(milliseconds: 100)
        return true
    }

    /// Reads one file as far as the batch allows. Returns true when it may have more right away.
    private func pump(_ db: Database, fileIndex: Int) throws -> Bool {
        let file = files[fileIndex]
        let runtime = runtimes[fileDriver[fileIndex]]
        let onLine: (ByteLine, Int64) throws -> Bool = { line, offset in
            try self.handle(line, at: offset, of: file, runtime: runtime, db: db)
        }
        let onOverlong: (Int64) -> Void = { offset in
            runtime.pending.linesRead += 1
            self.reject(.overlong, runtime: runtime, path: file.path, offset: offset, line: nil)
        }
        let onBlock: (inout LineBlock) throws -> Bool = { block in
            try self.handle(&block, of: file, runtime: runtime, db: db)
        }
        batchLimit = file.bytesBehind > 1 << 20 ? settings.catchUpBatchEvents : settings.batchEvents
        // `--trace` shows lines one by one, so it takes them one by one.
        switch try file.pump(budget: 4 << 20, onBlock: traceRemaining > 0 ? nil : onBlock, onLine: onLine, onOverlong: onOverlong) {
        case .paused:
            return true
        case .endOfFile:
            return try file.checkAtEndOfFile(onLine: onLine, onOverlong: onOverlong)
        }
    }

    /// The per-line hot path. Returns false when the batch is full (commit before reading on).
    @inline(__always)
    private func handle(_ line: ByteLine, at offset: Int64, of file: TailedFile, runtime: DriverRuntime, db: Database) throws -> Bool {
        if !inTransaction { try begin(db) }
        runtime.pending.linesRead += 1
        if traceRemaining > 0 {
            traceRemaining -= 1
            runtime.logger.trace("\(file.path):\(offset): \(RateLimitedWarnings.printable(line, limit: 300))")
        }
        if line.containsNUL {
            reject(.nulByte, runtime: runtime, path: file.path, offset: offset, line: line)
            return true
        }
        switch try runtime.driver.ingest(line, from: file.source) {
        case .stored(let events):
            runtime.pending.events += events
            batchEvents += events
        case .ignored:
            runtime.pending.ignored += 1
        case .rejected(let reason):
            reject(reason, runtime: runtime, path: file.path, offset: offset, line: line)
        }
        if batchEvents >= batchLimit {
            try commit(db)
            return false
        }
        return true
    }

    /// The hot path of a catch-up: a block of lines through the driver, tallied once. Returns false
    /// when the batch is full (commit before reading on); a batch may end up to one block over its limit.
    private func handle(_ block: inout LineBlock, of file: TailedFile, runtime: DriverRuntime, db: Database) throws -> Bool {
        if !inTransaction { try begin(db) }
        try runtime.driver.ingest(&block, from: file.source)
        // Lines a driver left in the block go through `ingest(_:from:)`: whatever the driver does,
        // every line whose position commits was interpreted.
        while let line = block.next() { block.record(try runtime.driver.ingest(line, from: file.source)) }
        runtime.pending.linesRead += block.linesRead
        runtime.pending.events += block.events
        runtime.pending.ignored += block.ignoredLines
        batchEvents += block.events
        for offset in block.overlong {
            reject(.overlong, runtime: runtime, path: file.path, offset: offset, line: nil)
        }
        for (reason, offset, line) in block.rejections {
            reject(reason, runtime: runtime, path: file.path, offset: offset, line: line)
        }
        if batchEvents >= batchLimit {
            try commit(db)
            return false
        }
        return true
    }

    private func reject(_ reason: RejectReason, runtime: DriverRuntime, path: String, offset: Int64, line: ByteLine?) {
        runtime.pending.rejected += 1
        var entry = runtime.pending.rejectedByReason[reason] ?? (0, path, offset)
        entry.count += 1
        entry.path = path
        entry.offset = offset
        runtime.pending.rejectedByReason[reason] = entry
        warnings.rejected(reason, path: path, offset: offset, line: line, logger: runtime.logger)
    }

    private func begin(_ db: Database) throws {
        try db.beginTransaction(.immediate)
        inTransaction = true
        batchEvents = 0
        batchStarted = clock.now
    }

    // MARK: Committing

    /// Commits the open batch: the drivers' aggregates, every moved file position, and the counters.
    private func commit(_ db: Database) throws {
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
    private func abandonBatch(_ db: Database, after error: any Error) throws {
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

    private func tickDrivers(_ db: Database) throws {
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
        // Free pages left by purges go back to the file system, 2,048 pages (32 MiB) at a time.
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
