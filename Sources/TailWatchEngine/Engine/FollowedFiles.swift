import Foundation

/// The files an engine follows, and which of them it must look at next.
///
/// Why this exists: a hosting server has 20,000 domlogs and writes to a few of them at a time. The
/// engine's work must follow the lines that change, not the files that exist: a file is read when
/// its folder's watch names it (`markChanged`), when the stat sweep finds it changed (`sweep`),
/// when it has more to read, or on every round while it is unsettled (reading a rotated copy,
/// waiting for its path, in a rotation's grace, or behind a symlink whose target's folder is not
/// watched). Only files read since the last commit can have a new position (`touched`).
final class FollowedFiles {
    private(set) var files: [TailedFile] = []
    /// Index of each file's driver in the engine's runtimes.
    private(set) var driverOf: [Int] = []
    /// The folder watched for each file (its path's folder).
    private(set) var folderOf: [String] = []
    /// Every distinct folder in `folderOf`.
    private(set) var folders: Set<String> = []
    /// File indices by `FolderChanges.key` of their path.
    private var byKey: [String: [Int]] = [:]
    /// File index by driver and path.
    private var byDriverPath: [DriverPath: Int] = [:]
    /// Files to read on the next round.
    private var due: Set<Int> = []
    /// Files read on every round until they settle.
    private var unsettled: Set<Int> = []
    /// Files whose changes no watch reports (symlinks): read on every round.
    private var unwatchable: Set<Int> = []
    /// Files read since the last commit: the only ones whose position may have moved.
    private(set) var touched: Set<Int> = []
    /// Round in which each file was last read (for closing the idle ones first).
    private var lastRead: [UInt64] = []
    private var round: UInt64 = 0
    private var sweepCursor = 0

    struct DriverPath: Hashable {
        let driver: Int
        let path: String
    }

    var count: Int { files.count }

    func index(driver: Int, path: String) -> Int? { byDriverPath[DriverPath(driver: driver, path: path)] }

    /// Adds a file (already positioned); it is due and touched (its position is not committed yet).
    @discardableResult
    func add(_ file: TailedFile, driver: Int) -> Int {
        let index = files.count
        let folder = Self.folder(of: file.path)
        files.append(file)
        driverOf.append(driver)
        folderOf.append(folder)
        folders.insert(folder)
        lastRead.append(round)
        byKey[FolderChanges.key(folder: folder, name: (file.path as NSString).lastPathComponent), default: []].append(index)
        byDriverPath[DriverPath(driver: driver, path: file.path)] = index
        if Self.isSymlink(file.path) { unwatchable.insert(index) }
        due.insert(index)
        touched.insert(index)
        return index
    }

    /// Lets go of the files at `indices` (their positions are committed); the others are renumbered.
    func remove(_ indices: Set<Int>) {
        guard !indices.isEmpty else { return }
        var renumbered = [Int](repeating: -1, count: files.count)
        var next = 0
        for index in files.indices where !indices.contains(index) {
            renumbered[index] = next
            next += 1
        }
        let kept = files.indices.filter { !indices.contains($0) }
        let oldFiles = files, oldDrivers = driverOf, oldRead = lastRead
        func map(_ set: Set<Int>) -> Set<Int> { Set(set.compactMap { renumbered[$0] >= 0 ? renumbered[$0] : nil }) }
        let oldDue = map(due), oldUnsettled = map(unsettled), oldUnwatchable = map(unwatchable), oldTouched = map(touched)
        files = []; driverOf = []; folderOf = []; folders = []; lastRead = []; byKey = [:]; byDriverPath = [:]
        for index in kept {
            add(oldFiles[index], driver: oldDrivers[index])
            lastRead[lastRead.count - 1] = oldRead[index]
        }
        due = oldDue; unsettled = oldUnsettled; unwatchable = oldUnwatchable; touched = oldTouched
    }

    // MARK: What to read

    /// Every file is due (a start, a reload, an overflowed event queue).
    func markAll() { due = Set(files.indices) }

    func markDue(_ index: Int) { due.insert(index) }

    /// The files behind the paths a folder watch reported.
    func markChanged(_ keys: Set<String>) {
        for key in keys {
            if let indices = byKey[key] { due.formUnion(indices) }
        }
    }

    /// The files to read this round, in a stable order; they stop being due.
    func takeRound() -> [Int] {
        round += 1
        var work = due
        work.formUnion(unsettled)
        work.formUnion(unwatchable)
        due = []
        return work.sorted()
    }

    /// Called before a file is read (a commit may come in the middle of its lines).
    func willRead(_ index: Int) {
        touched.insert(index)
        lastRead[index] = round
    }

    /// Called after a file was read: `more` when it has more right away.
    func didRead(_ index: Int, more: Bool) {
        if more {
            due.insert(index)
        } else if files[index].settled {
            unsettled.remove(index)
        } else {
            unsettled.insert(index)
        }
    }

    /// After a commit: positions are saved. `reading` stays touched (its lines go on in the next batch).
    func committed(reading: Int?) {
        touched = []
        if let reading { touched.insert(reading) }
    }

    /// After a rollback, every file was rewound: any may have a position to save.
    func touchAll() { touched = Set(files.indices) }

    /// The safety net where watches are missing or miss something: one `stat` for each of the
    /// next `budget` settled files, round-robin; those that changed become due. With 20,000 files
    /// and 1,000 looks a second, each file is looked at every 20 s.
    func sweep(budget: Int) {
        guard !files.isEmpty else { return }
        for _ in 0..<min(budget, files.count) {
            if sweepCursor >= files.count { sweepCursor = 0 }
            let index = sweepCursor
            sweepCursor += 1
            if due.contains(index) || unsettled.contains(index) || unwatchable.contains(index) { continue }
            if files[index].probe() { due.insert(index) }
        }
    }

    // MARK: Descriptors

    /// Closes settled, committed files, idle the longest first, until at most `target` are open.
    /// Returns how many were closed (0 when every open file has an uncommitted position: commit first).
    func suspendIdle(descriptors: OpenDescriptors, target: Int) -> Int {
        let candidates = files.indices.filter { index in
            files[index].fd >= 0 && files[index].settled && !due.contains(index) && !touched.contains(index)
                && !unsettled.contains(index) && !unwatchable.contains(index)
        }.sorted { lastRead[$0] < lastRead[$1] }
        var closed = 0
        for index in candidates where descriptors.count > target {
            if files[index].suspend() { closed += 1 }
        }
        return closed
    }

    // MARK: Paths

    /// A path's folder as it is watched ("." for a bare name).
    static func folder(of path: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        return folder.isEmpty ? "." : folder
    }

    private static func isSymlink(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
    }
}
