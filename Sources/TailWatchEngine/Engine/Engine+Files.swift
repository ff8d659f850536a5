import Foundation
import GRDB
import Logging

/// Which files the engine follows: the configured files and the logs in the configured folders,
/// picked up as they appear, let go of once deleted and read to their end, looked at again when
/// the watches or the sweep say they changed, and closed when idle past the descriptor budget.
extension Engine {
    func loadFiles(_ db: Database) throws {
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

    func addFile(path: String, driver index: Int, sourceIndex: Int, checkpoint: Checkpoint?) {
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

    func expand(_ source: LogSource) -> [String] {
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
    func rescanFolders(_ db: Database, only: Set<String>?) throws {
        try settleDrivers()
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
    func letGoOfFinishedFiles() {
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
    func foldersChangedSinceListing() -> Set<String> {
        var changed = Set<String>()
        for (folder, time) in folderTimes {
            let now = Self.modificationTime(of: folder)
            if now.tv_sec != time.tv_sec || now.tv_nsec != time.tv_nsec || !watcher.isWatched(folder) { changed.insert(folder) }
        }
        return changed
    }

    static func modificationTime(of folder: String) -> timespec {
        var st = stat()
        return stat(folder, &st) == 0 ? st.st_mtim : timespec(tv_sec: -1, tv_nsec: 0)
    }

    /// After a wait: the files the watches named become due; folders whose entries changed are
    /// listed again (at most once a second: a busy folder changes all the time); the sweep looks
    /// at its next share of files; and every 10 s a `stat` of each folder catches what the
    /// watches missed.
    func noteChanges() {
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
    func makeRoomForOneMoreFile(_ db: Database) throws {
        guard descriptors.count >= descriptors.budget else { return }
        let target = descriptors.budget - max(1, descriptors.budget / 10)
        if followed.suspendIdle(descriptors: descriptors, target: target) == 0 {
            try commit(db)
            _ = followed.suspendIdle(descriptors: descriptors, target: target)
        }
    }
}
