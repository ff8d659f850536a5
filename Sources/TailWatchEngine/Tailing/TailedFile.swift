import Foundation

import Glibc

/// One log file followed for one driver: reads it in large chunks, hands out complete lines, and
/// decides at end of file whether it was rotated, truncated or replaced.
///
/// Why one place decides rotation: every case (rename + create, copytruncate, truncation in place,
/// delete and recreate, inode reuse, rotated copies found after a restart) changes what "the next
/// line" is, and the only safe moment to change it is when the open file has been read to its end.
///
/// Positions: `consumedOffset` is always a line boundary just past the last line handed out; it is
/// what a checkpoint saves. A partial last line stays unread until its newline arrives (or the file
/// is finished because it was rotated away, when it is handed out as the file's last line).
///
/// Files: reading (here), opening by content (`TailedFile+Opening`), the end-of-file decision
/// (`TailedFile+EndOfFile`), the bytes in hand (`ReadWindow`). The state is shared by those files,
/// so it is module-internal; the engine only calls the methods and reads `committed`, the
/// offsets and the flags, and sets `committed` once a commit has saved it.
final class TailedFile {
    let path: String
    let source: SourceFile
    let maxLine: Int
    let notify: (TailNotice) -> Void

    /// The file being read: `path` itself, or a rotated copy whose unread rest comes first.
    var currentPath: String
    /// Rotated files already read in the current chain (device, inode), so that the chain of
    /// copies after a restart is followed by content and age, not by names that may shift meanwhile.
    var chainRead: Set<[UInt64]> = []
    /// A saved position whose file was missing at start: checked against the file once it appears
    /// (a mount that was not ready must not make the whole file count twice).
    var pendingCheckpoint: Checkpoint?
    /// An `open` in the current `resume` failed with EMFILE or ENFILE: not finding the content then
    /// says nothing about where it went.
    var ranOutOfDescriptors = false
    /// After a rename, keep reading the old file until it has been quiet this long (writers that
    /// reopen their log late); 0 for `--once`, which must finish.
    let rotationGrace: Double
    var fd: Int32 = -1
    var identity: FileIdentity?

    /// The bytes read and not yet let go. Its buffer is taken from the pool when there is
    /// something to read, and given back when the file is read to its end with no partial line left.
    let window: ReadWindow
    let descriptors: OpenDescriptors
    var consumedOffset: Int64 = 0
    /// Inside a line longer than `maxLine`: its bytes are dropped until the next newline.
    var skipping = false
    /// The tail at `consumedOffset` while a too-long line is skipped (the buffer runs ahead of it).
    var skipTail: [UInt8] = []
    /// Offset of the too-long line being skipped.
    var skipStart: Int64 = 0
    var reportedWaiting = false
    /// The last read hit the end of the file: before reading on, check it was not replaced under us.
    var wasAtEnd = false
    var reportedVanished = false
    /// The checkpoint that is committed for this file (nil: none yet).
    var committed: Checkpoint?
    /// The last end-of-file look found the file in place, read to its end: nothing to do until it
    /// changes. False while reading a rotated copy, waiting for the file, or in a rotation's grace,
    /// when only another look tells when to go on.
    var settled = false
    /// Closed to save a descriptor (see `suspend`), with what the file looked like then.
    var suspended: FileIdentity?
    /// A file postponed with no saved position: the file at its path then (offset 0), so that a
    /// rename before it is first read is followed into the rotated copy, as an open file would be.
    var firstLook: Checkpoint?
    /// The size the file had when last looked at, for `knownBytesBehind`.
    var lastSeenSize: Int64 = 0

    var readOffset: Int64 { window.readOffset }

    /// The largest size the open file was seen to have: after a copytruncate, what the copy lacks
    /// of it was written between the copy and the truncation and is in neither file.
    var largestSizeSeen: Int64 = 0

    /// Since when the open file is known to be renamed away from `path` while a writer kept it
    /// busy: the new file at `path` waits for it at most `rotationHold`.
    var renamedSince: ContinuousClock.Instant?
    let rotationHold: Duration

    init(
        path: String, source: SourceFile, maxLine: Int, chunk: Int = 1 << 20, rotationGrace: Double = 2,
        rotationHold: Duration = .seconds(30),
        spares: ReadBufferPool = ReadBufferPool(), descriptors: OpenDescriptors = OpenDescriptors(budget: 1 << 20),
        notify: @escaping (TailNotice) -> Void
    ) {
        self.descriptors = descriptors
        self.path = path
        self.rotationGrace = rotationGrace
        self.rotationHold = rotationHold
        self.source = source
        self.maxLine = maxLine
        self.notify = notify
        self.currentPath = path
        // Room for the longest line plus its CRLF, so that a partial line that may still become one
        // never fills the buffer.
        self.window = ReadWindow(capacity: max(chunk, maxLine + 2), spares: spares)
    }

    deinit {
        closeCurrent()
    }

    // MARK: Reading

    enum PumpResult {
        /// The open file is read to its end (or there is none).
        case endOfFile
        /// `onLine` asked to stop (the batch is full); call again to go on.
        case paused
    }

    /// Hands out complete lines until end of file, or until `onLine` returns false. `onOverlong`
    /// is told of each line longer than `maxLine` (whose bytes are skipped, not buffered).
    /// With `onBlock`, the complete lines of each read go to it at once instead (it returns false
    /// to stop, like `onLine`); `onLine` still ends a too-long line being skipped.
    func pump(
        budget: Int, onBlock: ((inout LineBlock) throws -> Bool)? = nil,
        onLine: (ByteLine, Int64) throws -> Bool, onOverlong: (Int64) -> Void
    ) throws -> PumpResult {
        if suspended != nil {
            let saved = committed
            resume(from: saved ?? firstLook)
            committed = saved
            firstLook = nil
        }
        guard fd >= 0 else { return .endOfFile }
        let w = window
        w.takeBuffer()
        if wasAtEnd {
            wasAtEnd = false
            // Growth after an idle spell: if the bytes before our position changed, the file was
            // truncated and rewritten; let `checkAtEndOfFile` decide before reading a byte of it.
            if let now = FileIdentity.of(fd: fd), now.size != readOffset,
               let here = checkpointHere(), !fileMatches(fd, size: now.size, checkpoint: here) {
                return .endOfFile
            }
        }
        var readBytes = 0
        while true {
            // Complete lines already in the buffer.
            while w.start < w.end {
                let buffer = w.buffer
                let from = buffer + w.start
                if let onBlock, !skipping {
                    // The last newline in the buffer (usually within a line's length of its end).
                    var blockEnd = w.end
                    while blockEnd > w.start && buffer[blockEnd - 1] != 0x0A { blockEnd -= 1 }
                    guard blockEnd > w.start else { break }
                    var block = LineBlock(bytes: from, count: blockEnd - w.start, fileOffset: w.fileOffset + Int64(w.start), maxLine: maxLine)
                    // A large block means a catch-up: read the next chunk meanwhile, when this
                    // call would read on anyway.
                    let ahead = blockEnd - w.start >= w.capacity / 4 && readBytes < budget ? w.readAhead(fd: fd, after: blockEnd) : nil
                    w.start = blockEnd
                    consumedOffset = w.fileOffset + Int64(blockEnd)
                    let goOn: Bool
                    do {
                        goOn = try onBlock(&block)
                    } catch {
                        // The read must finish before the descriptor is rewound; its bytes are
                        // dropped with the batch (the file is read again from the committed position).
                        if let reading = ahead {
                            _ = reading.wait()
                            w.dropReadAhead()
                        }
                        throw error
                    }
                    if let reading = ahead {
                        let (n, error) = w.takeReadAhead(reading, fd: fd, after: blockEnd)
                        if n < 0 { notify(.readError(path: currentPath, errno: error)) }
                        readBytes += max(0, n)
                    }
                    if !goOn { return .paused }
                    continue
                }
                guard let hit = memchr(from, 0x0A, w.end - w.start) else { break }
                let newline = UnsafeMutablePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self))
                let length = newline - from
                let lineOffset = w.fileOffset + Int64(w.start)
                w.start += length + 1
                if skipping {
                    // The end of a too-long line: count it now, once, with its position.
                    skipping = false
                    consumedOffset = w.fileOffset + Int64(w.start)
                    onOverlong(skipStart)
                    continue
                }
                var n = length
                if n > 0 && from[n - 1] == 0x0D { n -= 1 }
                consumedOffset = w.fileOffset + Int64(w.start)
                if n > maxLine {
                    onOverlong(lineOffset)
                    continue
                }
                if try !onLine(ByteLine(base: from, count: n), lineOffset) { return .paused }
            }
            // A partial line: drop it once it is too long (a CR at its end may be the start of
            // its CRLF, which is not part of the line), otherwise keep it for the next read.
            var partial = w.end - w.start
            if partial > 0 && w.buffer[w.end - 1] == 0x0D { partial -= 1 }
            if partial > maxLine {
                if !skipping {
                    skipTail = w.tailBytes(before: consumedOffset) ?? []
                    skipStart = w.fileOffset + Int64(w.start)
                    skipping = true
                }
                w.discard(w.end)
            } else if w.start > 0 {
                w.discard(w.start)
            }
            if readBytes >= budget { return .paused }
            let n = w.fill(from: fd)
            if n > 0 {
                readBytes += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { notify(.readError(path: currentPath, errno: errno)) }
            wasAtEnd = true
            if n == 0 { lastSeenSize = readOffset }
            // Nothing left in the buffer (`start` is 0 here): it goes back for another file to use.
            if w.end == 0 { w.releaseBuffer() }
            return .endOfFile
        }
    }

    /// After a failed commit: back to the committed position, on the open descriptor when it is
    /// still the committed file (so a log deleted or compressed meanwhile is not lost), else by
    /// looking for the committed content again.
    func rewind() {
        // A suspended file is at its committed position by construction, and has no descriptor to spare.
        guard suspended == nil else { return }
        if let committed, fd >= 0, let identity, identity.device == committed.device, identity.inode == committed.inode {
            adopt(fd: dup(fd), path: currentPath, at: committed.offset)
        } else {
            resume(from: committed)
        }
    }

    /// Whether the file has been read to its end and committed there, and its path is gone: a
    /// folder's log that was deleted, whose descriptor can be let go.
    /// Only a file that was deleted (no name left) counts: a log that was merely renamed may still
    /// be written by a writer that has not reopened it, and is followed until it comes back.
    /// A suspended file whose path is gone counts too: it was committed at its end when it was
    /// closed, and should its path come back, the folder's rescan follows it again from the saved
    /// position (into a rotated copy, if that is where the content went).
    var isFinishedAndGone: Bool {
        if let look = suspended { return look.size == committed?.offset && FileIdentity.of(path: path) == nil }
        var st = stat()
        return currentPath == path && FileIdentity.of(path: path) == nil && bytesBehind == 0
            && checkpointHere() == committed && fd >= 0 && fstat(fd, &st) == 0 && st.st_nlink == 0
    }

    // MARK: Idle files

    /// Closes a settled file whose position is committed, to give its descriptor back (see
    /// `OpenDescriptors`). The next `pump` reopens it with `resume(from: committed)`, the way a
    /// restart does: by content, so a rotation, truncation or replacement meanwhile is followed
    /// exactly. Returns false (and changes nothing) when the file is not in that state.
    func suspend() -> Bool {
        guard suspended == nil, settled, fd >= 0, currentPath == path, !skipping, pendingCheckpoint == nil,
              let committed, let identity, committed == checkpointHere() else { return false }
        suspended = FileIdentity(device: identity.device, inode: identity.inode, size: readOffset, modified: identity.modified)
        closeCurrent()
        // A partial last line is read again from the committed position when the file reopens.
        window.rewindUnread(to: consumedOffset)
        window.releaseBuffer()
        return true
    }

    /// Starts suspended: the file is opened (as `resume(from:)` would) when it is first read. For
    /// files beyond the engine's descriptor budget at start.
    func postpone(from checkpoint: Checkpoint?) {
        committed = checkpoint
        settled = true
        if checkpoint == nil, let now = FileIdentity.of(path: path) {
            firstLook = Checkpoint(device: now.device, inode: now.inode, offset: 0, head: .empty, tail: .empty)
        }
        // A look that matches no file: the first sweep or round opens it.
        suspended = FileIdentity(device: 0, inode: 0, size: -1, modified: 0)
    }

    /// One `stat` of the path, for the engine's sweep (the safety net where inotify is missing or
    /// missed something): whether the file may have something to read or to decide. Settled and
    /// suspended files only; the others are looked at on every round anyway.
    func probe() -> Bool {
        guard let now = FileIdentity.of(path: path) else { return suspended == nil }
        if let look = suspended {
            if now.sameFile(as: look) { lastSeenSize = now.size }
            return !now.sameFile(as: look) || now.size != look.size
        }
        guard let identity else { return true }
        if now.sameFile(as: identity) { lastSeenSize = now.size }
        return !now.sameFile(as: identity) || now.size != readOffset
    }

    /// Bytes between the committed position and the size the file had when last looked at: what
    /// the health board shows, without a `stat` of every file every second.
    var knownBytesBehind: Int64 { max(0, lastSeenSize - consumedOffset) }

    // MARK: Checkpoints

    /// Where this file stands now, as it would be committed.
    func checkpointHere() -> Checkpoint? {
        guard fd >= 0, let identity else { return nil }
        let tailLength = Int(min(Int64(Checkpoint.tailWindow), consumedOffset))
        let tail = (skipping ? skipTail : window.tailBytes(before: consumedOffset))
            ?? preadFully(fd, count: tailLength, at: consumedOffset - Int64(tailLength))
        return Checkpoint(
            device: identity.device, inode: identity.inode, offset: consumedOffset,
            head: ContentHash(window.head), tail: ContentHash(tail))
    }

    /// Bytes between the committed position and the end of the file being read.
    var bytesBehind: Int64 {
        guard let size = identity.flatMap({ _ in FileIdentity.of(fd: fd)?.size }) else { return 0 }
        return max(0, size - consumedOffset)
    }
}
