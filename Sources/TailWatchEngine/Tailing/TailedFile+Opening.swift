import Foundation

import Glibc

/// Opening a tailed file where its content is: at the saved position in the file at its path, or
/// in the rotated copy (plain or compressed) that now holds it, then the newer copies in turn.
extension TailedFile {
    // MARK: Opening

    /// Opens the file where `checkpoint` says the driver stopped, looking for the content among the
    /// rotated copies when `path` no longer holds it.
    func resume(from checkpoint: Checkpoint?) {
        committed = checkpoint
        ranOutOfDescriptors = false
        suspended = nil
        settled = false
        guard let checkpoint, checkpoint.offset > 0 else {
            // Nothing consumed yet: prefer the file with the saved inode (an empty file that was
            // rotated before it was read), else `path`. An empty log still in place (most `-ssl_log`s
            // of a hosting server) is opened without listing its folder.
            if let checkpoint, let primary = FileIdentity.of(path: path),
               primary.device == checkpoint.device && primary.inode == checkpoint.inode {
                openPrimary(at: 0, announce: false)
                return
            }
            if let checkpoint, let sibling = RotatedSiblings.of(path).first(where: {
                $0.identity.device == checkpoint.device && $0.identity.inode == checkpoint.inode
            }), FileIdentity.of(path: path).map({ !$0.sameFile(as: sibling.identity) }) ?? true {
                startInRotated(sibling.path, at: 0)
                return
            }
            openPrimary(at: 0, announce: false)
            return
        }
        if let primary = FileIdentity.of(path: path), let pfd = openReadOnly(path) {
            if fileMatches(pfd, size: primary.size, checkpoint: checkpoint) {
                adopt(fd: pfd, path: path, at: checkpoint.offset)
                return
            }
            close(pfd)
        }
        var matches: [(path: String, identity: FileIdentity)] = []
        for sibling in RotatedSiblings.of(path) {
            guard let sfd = openReadOnly(sibling.path) else { continue }
            if fileMatches(sfd, size: sibling.identity.size, checkpoint: checkpoint) { matches.append(sibling) }
            close(sfd)
        }
        let chosen = matches.first { $0.identity.device == checkpoint.device && $0.identity.inode == checkpoint.inode } ?? matches.last
        if let chosen {
            notify(.resumedInRotated(path: path, rotated: chosen.path, offset: checkpoint.offset))
            startInRotated(chosen.path, at: checkpoint.offset)
            return
        }
        if let copy = CompressedSiblings.copy(holding: checkpoint, of: path) {
            notify(.resumedInRotated(path: path, rotated: copy.path, offset: checkpoint.offset))
            chainRead = [[copy.identity.device, copy.identity.inode]]
            adopt(fd: copy.fd, path: copy.path, at: checkpoint.offset)
            return
        }
        if FileIdentity.of(path: path) == nil || ranOutOfDescriptors {
            // Missing, not readable yet, or not openable for want of a descriptor (the process's
            // limit reached): the content may well be there, so decide when it can be opened.
            pendingCheckpoint = checkpoint
        } else {
            notify(.positionLost(path: path, offset: checkpoint.offset))
        }
        openPrimary(at: 0, announce: false)
    }

    /// Reads `rotated` from `offset`, then every newer rotated copy in full, then `path`.
    func startInRotated(_ rotated: String, at offset: Int64) {
        chainRead = []
        guard let sfd = openReadOnly(rotated) else {
            openPrimary(at: 0, announce: false)
            return
        }
        adopt(fd: sfd, path: rotated, at: offset)
    }

    /// The rotated file to read after `finished`: the oldest one at least as new as it that is
    /// neither read in this chain nor the file at `path` (which may be a symlink to a dated log).
    func nextInChain(after finished: FileIdentity) -> String? {
        let primary = FileIdentity.of(path: path)
        return RotatedSiblings.of(path).filter { sibling in
            !(primary.map { sibling.identity.sameFile(as: $0) } ?? false)
                && !sibling.identity.sameFile(as: finished)
                && !chainRead.contains([sibling.identity.device, sibling.identity.inode])
                && sibling.identity.modified >= finished.modified
        }.first?.path
    }

    func openReadOnly(_ p: String) -> Int32? {
        let f = open(p, O_RDONLY | O_CLOEXEC)
        if f < 0 && (errno == EMFILE || errno == ENFILE) { ranOutOfDescriptors = true }
        return f >= 0 ? f : nil
    }

    func openPrimary(at offset: Int64, announce: Bool) {
        guard let pfd = openReadOnly(path) else {
            if !reportedWaiting {
                notify(.waiting(path: path))
                reportedWaiting = true
            }
            // A finished rotated file stays open (at its end) until the new one appears, so that
            // its position is what gets committed meanwhile.
            if fd < 0 { currentPath = path }
            return
        }
        if reportedWaiting || announce { notify(.appeared(path: path)) }
        reportedWaiting = false
        reportedVanished = false
        chainRead = []
        if let pending = pendingCheckpoint {
            pendingCheckpoint = nil
            if let found = FileIdentity.of(fd: pfd), fileMatches(pfd, size: found.size, checkpoint: pending) {
                adopt(fd: pfd, path: path, at: pending.offset)
                return
            }
            notify(.positionLost(path: path, offset: pending.offset))
        }
        adopt(fd: pfd, path: path, at: offset)
    }

    func adopt(fd newFD: Int32, path p: String, at offset: Int64) {
        closeCurrent()
        largestSizeSeen = 0
        fd = newFD
        descriptors.opened()
        currentPath = p
        identity = FileIdentity.of(fd: newFD)
        lseek(newFD, off_t(offset), SEEK_SET)
        window.reset(fd: newFD, at: offset)
        consumedOffset = offset
        skipping = false
        wasAtEnd = false
        skipTail = []
    }

    func closeCurrent() {
        if fd >= 0 {
            close(fd)
            descriptors.closed()
        }
        fd = -1
        identity = nil
    }
}
