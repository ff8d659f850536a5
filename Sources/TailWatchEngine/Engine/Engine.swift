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
///
/// Files: the loop and the hand-over of lines (here), which files are followed (`Engine+Files`),
/// the commit, the rollback and the ticks (`Engine+Commit`). Its state is shared by those files,
/// so it is module-internal; nothing else in the module touches it.
public final class Engine {
    let settings: EngineSettings
    let queue: DatabaseQueue
    let logger: Logger
    let options: EngineOptions
    let control: EngineControl
    let runtimes: [DriverRuntime]
    let followed = FollowedFiles()
    var files: [TailedFile] { followed.files }
    /// Index into `runtimes` for each entry of `files`.
    var fileDriver: [Int] { followed.driverOf }
    /// The read buffers all files share (a file holds one only while it has bytes to read).
    let readBuffers = ReadBufferPool()
    let descriptors: OpenDescriptors
    let watcher: FileWatcher
    /// The file being read (it stays touched across a commit in the middle of its lines).
    var reading: Int?
    /// Folders whose entries changed (created, renamed, deleted) since the last rescan.
    var foldersToRescan: Set<String> = []
    /// Each folder source's folder with its modification time at its last listing.
    var folderTimes: [String: timespec] = [:]
    /// Folder logs found missing from their folder's listing, to let go of once read to their end.
    var goneCandidates: Set<FollowedFiles.DriverPath> = []
    /// How long a live batch stays open for more appends before it commits (see `runLoop`).
    let commitLinger: Duration = .milliseconds(20)
    /// Stat looks per poll interval by the sweep (the safety net behind the folder watches).
    let sweepBudget = 1000
    let warnings = RateLimitedWarnings()
    var inTransaction = false
    /// The driver whose block was handled last, until it settled (`settleDrivers`).
    var unsettled: DriverRuntime?
    var batchEvents = 0
    /// `batch_events` while following live appends; `catchup_batch_events` while a backlog of
    /// more than a read chunk waits (a commit costs the same for 1,000 rows as for 50,000, and
    /// during a catch-up nobody waits for the individual line). The time limit holds in both.
    var batchLimit = 1000
    // Deadlines and intervals run on the monotonic clock; wall-clock time is only stamped into rows.
    let clock = ContinuousClock()
    var batchStarted: ContinuousClock.Instant
    var traceRemaining: Int
    var nextFileID = 0
    var lastRescan: ContinuousClock.Instant
    var lastFolderLook: ContinuousClock.Instant
    var lastSweep: ContinuousClock.Instant
    var lastTick: ContinuousClock.Instant?
    /// How each driver is doing, for timed work that watches the engine (given by the supervisor).
    let health: EngineHealth
    /// Effects the drivers registered for after the open transaction commits.
    let afterCommit: AfterCommit
    let retention: RetentionPurge
    /// Operators' commands the drivers started; seen through before the engine goes.
    let commands: CommandRunner
    var lastReclaim: ContinuousClock.Instant?
    var lastCommitTimes: [Date?]
    /// What the engine purges for enabled timed work (it runs beside the engine, in the supervisor).
    let timedRetention: [(name: String, rules: [RetentionRule], logger: Logger)]
    /// Enabled drivers that could not start, with the reason.
    let failedDrivers: [(name: String, reason: String)]
    /// `--once`: how long it waits for paused drivers (see `waitForPausedDrivers`).
    var onceWaitDeadline: ContinuousClock.Instant?

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

    // MARK: Running

    /// Runs until caught up (`--once`), a stop or a reload is requested. Everything read is committed
    /// before it returns; a failure to commit is retried (daemon) or thrown (`--once`).
    public func run() throws -> EngineExit {
        try queue.inDatabase { db in
            let checkpoints: BackgroundCheckpoints?
            do {
                checkpoints = try BackgroundCheckpoints(writer: db, path: queue.path, logger: logger)
            } catch {
                logger.warning("checkpoints stay in the commits (no second connection to the database: \(error))")
                checkpoints = nil
            }
            defer { checkpoints?.stop() }
            return try runLoop(db)
        }
    }

    /// What each driver did since this engine started.
    public var summaries: [DriverSummary] {
        runtimes.map { DriverSummary(driver: $0.name, linesRead: $0.total.linesRead, events: $0.total.events, ignored: $0.total.ignored, rejected: $0.total.rejected) }
            + failedDrivers.map { DriverSummary(driver: $0.name, linesRead: 0, events: 0, ignored: 0, rejected: 0, failure: $0.reason) }
    }

    func runLoop(_ db: Database) throws -> EngineExit {
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

    /// `--once` and a paused driver (its helper program restarting) with lines left: wait for it
    /// (polling), 30 s at most in all, so that a catch-up is not cut short by a restart. Returns
    /// true while waiting.
    func waitForPausedDrivers() -> Bool {
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
    func pump(_ db: Database, fileIndex: Int) throws -> Bool {
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
    func handle(_ line: ByteLine, at offset: Int64, of file: TailedFile, runtime: DriverRuntime, db: Database) throws -> Bool {
        if unsettled != nil { try settleDrivers() }
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
    func handle(_ block: inout LineBlock, of file: TailedFile, runtime: DriverRuntime, db: Database) throws -> Bool {
        if let unsettled, unsettled !== runtime { try settleDrivers() }
        if !inTransaction { try begin(db) }
        unsettled = runtime
        try runtime.driver.ingest(&block, from: file.source)
        // Lines a driver left in the block go through `ingest(_:from:)`: whatever the driver does,
        // every line whose position commits was interpreted.
        if block.remainingBytes > 0 { try settleDrivers() }
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

    func reject(_ reason: RejectReason, runtime: DriverRuntime, path: String, offset: Int64, line: ByteLine?) {
        runtime.pending.rejected += 1
        var entry = runtime.pending.rejectedByReason[reason] ?? (0, path, offset)
        entry.count += 1
        entry.path = path
        entry.offset = offset
        runtime.pending.rejectedByReason[reason] = entry
        warnings.rejected(reason, path: path, offset: offset, line: line, logger: runtime.logger)
    }

    /// The driver whose block was handled last completes what it left running (`LogDriver.settle`):
    /// before anything else uses the connection.
    func settleDrivers() throws {
        guard let runtime = unsettled else { return }
        unsettled = nil
        try runtime.driver.settle()
    }

    func begin(_ db: Database) throws {
        try db.beginTransaction(.immediate)
        inTransaction = true
        batchEvents = 0
        batchStarted = clock.now
    }
}
