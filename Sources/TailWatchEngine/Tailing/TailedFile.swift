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
final class TailedFile {
    let path: String
    let source: SourceFile
    private let maxLine: Int
    private let notify: (TailNotice) -> Void

    /// The file being read: `path` itself, or a rotated copy whose unread rest comes first.
    private(set) var currentPath: String
    /// Rotated files already read in the current chain (device, inode), so that the chain of
    /// copies after a restart is followed by content and age, not by names that may shift meanwhile.
    private var chainRead: Set<[UInt64]> = []
    /// A saved position whose file was missing at start: checked against the file once it appears
    /// (a mount that was not ready must not make the whole file count twice).
    private var pendingCheckpoint: Checkpoint?
    /// An `open` in the current `resume` failed with EMFILE or ENFILE: not finding the content then
    /// says nothing about where it went.
    private var ranOutOfDescriptors = false
    /// After a rename, keep reading the old file until it has been quiet this long (writers that
    /// reopen their log late); 0 for `--once`, which must finish.
    private let rotationGrace: Double
    private(set) var fd: Int32 = -1
    private(set) var identity: FileIdentity?

    private let capacity: Int
    /// The read buffer: taken from `spares` when there is something to read, given back when the
    /// file is read to its end with no partial line left (`spares.none` meanwhile).
    private var buffer: UnsafeMutablePointer<UInt8>
    private var hasBuffer = false
    /// Where buffers come from, and the one the next chunk is being read into (only while `pump`
    /// hands out the block before it): it and `buffer` then trade places.
    private let spares: ReadBufferPool
    private let descriptors: OpenDescriptors
    private var aheadBuffer: UnsafeMutablePointer<UInt8>?
    private var start = 0
    private var end = 0
    /// File offset of `buffer[0]`.
    private var bufferFileOffset: Int64 = 0
    private(set) var consumedOffset: Int64 = 0
    /// Inside a line longer than `maxLine`: its bytes are dropped until the next newline.
    private var skipping = false
    private var head: [UInt8] = []
    /// The last bytes before `bufferFileOffset` (up to the tail window), so that the tail hash of a
    /// checkpoint comes from the bytes that were read, never from a re-read of a file that may
    /// have been rewritten since.
    private var streamTail: [UInt8] = []
    /// The tail at `consumedOffset` while a too-long line is skipped (the buffer runs ahead of it).
    private var skipTail: [UInt8] = []
    /// Offset of the too-long line being skipped.
    private var skipStart: Int64 = 0
    private var reportedWaiting = false
    /// The last read hit the end of the file: before reading on, check it was not replaced under us.
    private var wasAtEnd = false
    private var reportedVanished = false
    /// The checkpoint that is committed for this file (nil: none yet).
    var committed: Checkpoint?
    /// The last end-of-file look found the file in place, read to its end: nothing to do until it
    /// changes. False while reading a rotated copy, waiting for the file, or in a rotation's grace,
    /// when only another look tells when to go on.
    private(set) var settled = false
    /// Closed to save a descriptor (see `suspend`), with what the file looked like then.
    private(set) var suspended: FileIdentity?
    /// A file postponed with no saved position: the file at its path then (offset 0), so that a
    /// rename before it is first read is followed into the rotated copy, as an open file would be.
    private var firstLook: Checkpoint?
    /// The size the file had when last looked at, for `knownBytesBehind`.
    private var lastSeenSize: Int64 = 0

    var readOffset: Int64 { bufferFileOffset + Int64(end) }

    /// The largest size the open file was seen to have: after a copytruncate, what the copy lacks
    /// of it was written between the copy and the truncation and is in neither file.
    private var largestSizeSeen: Int64 = 0

    /// Since when the open file is known to be renamed away from `path` while a writer kept it
    /// busy: the new file at `path` waits for it at most `rotationHold`.
    private var renamedSince: ContinuousClock.Instant?
    private let rotationHold: Duration

    init(
        path: String, source: SourceFile, maxLine: Int, chunk: Int = 1 << 20, rotationGrace: Double = 2,
        rotationHold: Duration = .seconds(30),
        spares: ReadBufferPool = ReadBufferPool(), descriptors: OpenDescriptors = OpenDescriptors(budget: 1 << 20),
        notify: @escaping (TailNotice) -> Void
    ) {
        self.spares = spares
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
        self.capacity = max(chunk, maxLine + 2)
        self.buffer = spares.none
    }

    deinit {
        closeCurrent()
        if hasBuffer { spares.give(buffer, capacity: capacity) }
    }

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
    private func startInRotated(_ rotated: String, at offset: Int64) {
        chainRead = []
        guard let sfd = openReadOnly(rotated) else {
            openPrimary(at: 0, announce: false)
            return
        }
        adopt(fd: sfd, path: rotated, at: offset)
    }

    /// The rotated file to read after `finished`: the oldest one at least as new as it that is
    /// neither read in this chain nor the file at `path` (which may be a symlink to a dated log).
    private func nextInChain(after finished: FileIdentity) -> String? {
        let primary = FileIdentity.of(path: path)
        return RotatedSiblings.of(path).filter { sibling in
            !(primary.map { sibling.identity.sameFile(as: $0) } ?? false)
                && !sibling.identity.sameFile(as: finished)
                && !chainRead.contains([sibling.identity.device, sibling.identity.inode])
                && sibling.identity.modified >= finished.modified
        }.first?.path
    }

    private func openReadOnly(_ p: String) -> Int32? {
        let f = open(p, O_RDONLY | O_CLOEXEC)
        if f < 0 && (errno == EMFILE || errno == ENFILE) { ranOutOfDescriptors = true }
        return f >= 0 ? f : nil
    }

    private func openPrimary(at offset: Int64, announce: Bool) {
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

    private func adopt(fd newFD: Int32, path p: String, at offset: Int64) {
        closeCurrent()
        largestSizeSeen = 0
        fd = newFD
        descriptors.opened()
        currentPath = p
        identity = FileIdentity.of(fd: newFD)
        lseek(newFD, off_t(offset), SEEK_SET)
        bufferFileOffset = offset
        start = 0
        end = 0
        consumedOffset = offset
        skipping = false
        wasAtEnd = false
        head = preadFully(newFD, count: Checkpoint.headWindow, at: 0)
        let window = Int(min(Int64(Checkpoint.tailWindow), offset))
        streamTail = preadFully(newFD, count: window, at: offset - Int64(window))
        skipTail = []
    }

    private func closeCurrent() {
        if fd >= 0 {
            close(fd)
            descriptors.closed()
        }
        fd = -1
        identity = nil
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
        if !hasBuffer {
            buffer = spares.take(capacity: capacity)
            hasBuffer = true
        }
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
            while start < end {
                let from = buffer + start
                if let onBlock, !skipping {
                    // The last newline in the buffer (usually within a line's length of its end).
                    var blockEnd = end
                    while blockEnd > start && buffer[blockEnd - 1] != 0x0A { blockEnd -= 1 }
                    guard blockEnd > start else { break }
                    var block = LineBlock(bytes: from, count: blockEnd - start, fileOffset: bufferFileOffset + Int64(start), maxLine: maxLine)
                    // A large block means a catch-up: read the next chunk meanwhile, when this
                    // call would read on anyway.
                    let ahead = blockEnd - start >= capacity / 4 && readBytes < budget ? readAhead(after: blockEnd) : nil
                    start = blockEnd
                    consumedOffset = bufferFileOffset + Int64(start)
                    let goOn: Bool
                    do {
                        goOn = try onBlock(&block)
                    } catch {
                        // The read must finish before the descriptor is rewound; its bytes are
                        // dropped with the batch (the file is read again from the committed position).
                        if let reading = ahead {
                            _ = reading.wait()
                            dropReadAhead()
                        }
                        throw error
                    }
                    if let reading = ahead { readBytes += takeReadAhead(reading, after: blockEnd) }
                    if !goOn { return .paused }
                    continue
                }
                guard let hit = memchr(from, 0x0A, end - start) else { break }
                let newline = UnsafeMutablePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self))
                let length = newline - from
                let lineOffset = bufferFileOffset + Int64(start)
                start += length + 1
                if skipping {
                    // The end of a too-long line: count it now, once, with its position.
                    skipping = false
                    consumedOffset = bufferFileOffset + Int64(start)
                    onOverlong(skipStart)
                    continue
                }
                var n = length
                if n > 0 && from[n - 1] == 0x0D { n -= 1 }
                consumedOffset = bufferFileOffset + Int64(start)
                if n > maxLine {
                    onOverlong(lineOffset)
                    continue
                }
                if try !onLine(ByteLine(base: from, count: n), lineOffset) { return .paused }
            }
            // A partial line: drop it once it is too long (a CR at its end may be the start of
            // its CRLF, which is not part of the line), otherwise keep it for the next read.
            var partial = end - start
            if partial > 0 && buffer[end - 1] == 0x0D { partial -= 1 }
            if partial > maxLine {
                if !skipping {
                    skipTail = tailBytes(before: consumedOffset) ?? []
                    skipStart = bufferFileOffset + Int64(start)
                    skipping = true
                }
                discard(end)
            } else if start > 0 {
                discard(start)
            }
            if readBytes >= budget { return .paused }
            let n = read(fd, buffer + end, capacity - end)
            if n > 0 {
                end += n
                readBytes += n
                if head.count < Checkpoint.headWindow && readOffset > Int64(head.count) {
                    head = preadFully(fd, count: Checkpoint.headWindow, at: 0)
                }
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { notify(.readError(path: currentPath, errno: errno)) }
            wasAtEnd = true
            if n == 0 { lastSeenSize = readOffset }
            // Nothing left in the buffer (`start` is 0 here): it goes back for another file to use.
            if end == 0 { releaseBuffer() }
            return .endOfFile
        }
    }

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
    private func handleTruncation(identity: FileIdentity, size: Int64) {
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
    private func deliverRest(onLine: (ByteLine, Int64) throws -> Bool, onOverlong: (Int64) -> Void) throws {
        if skipping {
            skipping = false
            start = end
            consumedOffset = readOffset
            onOverlong(skipStart)
            return
        }
        guard end > start else { return }
        let lineOffset = bufferFileOffset + Int64(start)
        var n = end - start
        let from = buffer + start
        if from[n - 1] == 0x0D { n -= 1 }
        start = end
        consumedOffset = readOffset
        if n > maxLine { onOverlong(lineOffset); return }
        _ = try onLine(ByteLine(base: from, count: n), lineOffset)
    }

    /// Starts reading the next chunk into the spare buffer, behind the `end - blockEnd` bytes of
    /// partial line that follow the block (copied there first).
    private func readAhead(after blockEnd: Int) -> ReadAhead {
        let target = spares.take(capacity: capacity)
        aheadBuffer = target
        let partial = end - blockEnd
        target.update(from: buffer + blockEnd, count: partial)
        return ReadAhead(fd: fd, into: target + partial, capacity: capacity - partial)
    }

    private func dropReadAhead() {
        if let target = aheadBuffer { spares.give(target, capacity: capacity) }
        aheadBuffer = nil
    }

    /// Once the block before it was handed out: the chunk read ahead becomes the buffer (the
    /// handed-out bytes leave as `discard` lets them go). Returns the bytes read.
    private func takeReadAhead(_ ahead: ReadAhead, after blockEnd: Int) -> Int {
        let (n, error) = ahead.wait()
        if n < 0 { notify(.readError(path: currentPath, errno: error)) }
        let partial = end - blockEnd
        keepTail(of: blockEnd)
        spares.give(buffer, capacity: capacity)
        buffer = aheadBuffer!
        aheadBuffer = nil
        bufferFileOffset += Int64(blockEnd)
        start = 0
        end = partial + max(0, n)
        if n > 0, head.count < Checkpoint.headWindow && readOffset > Int64(head.count) {
            head = preadFully(fd, count: Checkpoint.headWindow, at: 0)
        }
        return max(0, n)
    }

    /// Drops `buffer[0..<count]`, keeping its last bytes in `streamTail`.
    private func discard(_ count: Int) {
        keepTail(of: count)
        if end > count { memmove(buffer, buffer + count, end - count) }
        bufferFileOffset += Int64(count)
        end -= count
        start = max(0, start - count)
    }

    /// `buffer[0..<count]` is about to go: `streamTail` keeps the last tail-window bytes read
    /// before what stays.
    private func keepTail(of count: Int) {
        let window = Checkpoint.tailWindow
        if count >= window {
            streamTail = Array(UnsafeBufferPointer(start: buffer + (count - window), count: window))
        } else if count > 0 {
            streamTail = Array((streamTail + UnsafeBufferPointer(start: buffer, count: count)).suffix(window))
        }
    }

    /// The tail-window bytes just before `offset`, from what was read; nil when not at hand.
    private func tailBytes(before offset: Int64) -> [UInt8]? {
        let want = Int(min(Int64(Checkpoint.tailWindow), offset))
        guard offset >= bufferFileOffset, offset <= readOffset else { return nil }
        let inBuffer = Int(offset - bufferFileOffset)
        let fromBuffer = min(want, inBuffer)
        let needFromStream = want - fromBuffer
        guard needFromStream <= streamTail.count else { return nil }
        return Array(streamTail.suffix(needFromStream)) + Array(UnsafeBufferPointer(start: buffer + (inBuffer - fromBuffer), count: fromBuffer))
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

    private func releaseBuffer() {
        guard hasBuffer else { return }
        spares.give(buffer, capacity: capacity)
        buffer = spares.none
        hasBuffer = false
    }

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
        start = 0
        end = 0
        bufferFileOffset = consumedOffset
        releaseBuffer()
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
        let window = Int(min(Int64(Checkpoint.tailWindow), consumedOffset))
        let tail = (skipping ? skipTail : tailBytes(before: consumedOffset))
            ?? preadFully(fd, count: window, at: consumedOffset - Int64(window))
        return Checkpoint(
            device: identity.device, inode: identity.inode, offset: consumedOffset,
            head: ContentHash(head), tail: ContentHash(tail))
    }

    /// Bytes between the committed position and the end of the file being read.
    var bytesBehind: Int64 {
        guard let size = identity.flatMap({ _ in FileIdentity.of(fd: fd)?.size }) else { return 0 }
        return max(0, size - consumedOffset)
    }
}
