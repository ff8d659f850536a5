import Foundation

import Glibc

/// The decision at the end of the open file: read on in the next rotated copy, follow a rename
/// (after its grace), a truncation or a replacement, or wait for more bytes.
extension TailedFile {
    // MARK: End of file

    /// Called when `pump` reached the end of the open file. Decides whether the file was rotated,
    /// truncated or replaced and switches accordingly. Returns true when there may be more to read.
    func checkAtEndOfFile(onLine: (ByteLine, Int64) throws -> Bool, onOverlong: (Int64) -> Void) throws -> Bool {
        settled = false
        if currentPath != path {
            // A rotated copy is finished: go on with the next one, then `path`.
            try deliverRest(onLine: onLine, onOverlong: onOverlong)
            if let finished = FileIdentity.of(fd: fd) {
                chainRead.insert([finished.device, finished.inode])
                let plain = nextInChain(after: finished)
                // A newer copy that was compressed too comes in its turn, oldest first.
                if let compressed = CompressedSiblings.next(of: path, after: finished.modified, excluding: chainRead),
                   plain.flatMap({ FileIdentity.of(path: $0) }).map({ compressed.identity.modified < $0.modified }) ?? true {
                    chainRead.insert([compressed.identity.device, compressed.identity.inode])
                    if let cfd = CompressedSiblings.open(compressed) {
                        notify(.readingRotated(path: path, rotated: compressed.path))
                        adopt(fd: cfd, path: compressed.path, at: 0)
                        return true
                    }
                }
                if let next = plain, let nfd = openReadOnly(next) {
                    notify(.readingRotated(path: path, rotated: next))
                    adopt(fd: nfd, path: next, at: 0)
                    return true
                }
            }
            openPrimary(at: 0, announce: false)
            return currentPath == path && fd >= 0
        }
        guard let now = FileIdentity.of(path: path) else {
            if fd >= 0, !reportedVanished {
                notify(.vanished(path: path))
                reportedVanished = true
            }
            return false
        }
        guard fd >= 0, let identity else {
            openPrimary(at: 0, announce: true)
            return fd >= 0
        }
        if !now.sameFile(as: identity) {
            // Renamed or deleted, and a new file is in place. Read what reached the old one meanwhile,
            // and keep reading it while writers that have not reopened their log still write to it:
            // one bounded read at a time, so the batch interval, a stop and the other files get
            // their turn between reads.
            if case .paused = try pump(budget: 4 << 20, onLine: onLine, onOverlong: onOverlong) { return true }
            let clock = ContinuousClock()
            let since = renamedSince ?? clock.now
            renamedSince = since
            let stillWritten = rotationGrace > 0 && FileIdentity.of(fd: fd).map { Date().timeIntervalSince1970 - $0.modified < rotationGrace } ?? false
            if stillWritten {
                // A writer that never reopens its log must not starve the new one: after the hold,
                // the new file is followed, and the operator is told.
                guard clock.now - since >= rotationHold else { return false }
                notify(.leftRenamed(path: path, heldSeconds: Int((clock.now - since).components.seconds)))
            }
            renamedSince = nil
            try deliverRest(onLine: onLine, onOverlong: onOverlong)
            notify(.rotated(path: path))
            openPrimary(at: 0, announce: false)
            return true
        }
        largestSizeSeen = max(largestSizeSeen, now.size)
        lastSeenSize = now.size
        if now.size < readOffset {
            handleTruncation(identity: identity, size: now.size)
            return true
        }
        guard now.size > readOffset else {
            settled = true
            return false
        }
        // New bytes on the same inode. If the file was truncated and rewritten past our position
        // between two looks, the bytes before our position changed: treat it as a truncation
        // instead of reading from the middle of someone else's line.
        if let here = checkpointHere(), !fileMatches(fd, size: now.size, checkpoint: here) {
            handleTruncation(identity: identity, size: now.size)
        }
        return true
    }

    /// The open file was truncated (copytruncate, or in place). A rotated copy may hold the lines
    /// between our position and the truncation: read its rest first, then the file from the start.
    func handleTruncation(identity: FileIdentity, size: Int64) {
        let probe = checkpointHere()
        let copy = RotatedSiblings.of(path).last { sibling in
            guard !sibling.identity.sameFile(as: identity), sibling.identity.size >= consumedOffset,
                  let sfd = openReadOnly(sibling.path) else { return false }
            defer { close(sfd) }
            return probe.map { fileMatches(sfd, size: sibling.identity.size, checkpoint: $0) } ?? false
        }
        if let copy {
            notify(.resumedInRotated(path: path, rotated: copy.path, offset: consumedOffset))
            let lost = max(largestSizeSeen, readOffset) - copy.identity.size
            if lost > 0 { notify(.lostInCopyTruncate(path: path, rotated: copy.path, bytes: lost)) }
            chainRead = []
            let at = consumedOffset
            if let cfd = openReadOnly(copy.path) {
                adopt(fd: cfd, path: copy.path, at: at)
                return
            }
        }
        notify(.truncated(path: path, offset: readOffset, size: size))
        adopt(fd: dup(fd), path: path, at: 0)
    }

    /// Hands out the unterminated rest of a file that will never grow again (it was rotated away).
    func deliverRest(onLine: (ByteLine, Int64) throws -> Bool, onOverlong: (Int64) -> Void) throws {
        if skipping {
            skipping = false
            window.consumeAll()
            consumedOffset = readOffset
            onOverlong(skipStart)
            return
        }
        guard window.end > window.start else { return }
        let lineOffset = window.fileOffset + Int64(window.start)
        var n = window.end - window.start
        let from = window.buffer + window.start
        if from[n - 1] == 0x0D { n -= 1 }
        window.consumeAll()
        consumedOffset = readOffset
        if n > maxLine { onOverlong(lineOffset); return }
        _ = try onLine(ByteLine(base: from, count: n), lineOffset)
    }
}
