import Foundation

import Glibc

/// The bytes of one tailed file that were read and not yet let go: `buffer[start..<end]` is what
/// is still to be handed out, `fileOffset` is the file offset of `buffer[0]`, and the bytes read
/// just before that and at the file's start are kept for checkpoints (`tailBytes`, `head`).
///
/// Why apart from `TailedFile`: that type decides *which* file and *where* (rotation, truncation,
/// resuming by content); this one only moves bytes — chunks read into a shared buffer, the next
/// chunk read ahead into a second one, consumed bytes let go — and remembers what a checkpoint
/// hashes, from bytes that were read, never re-read from a file that may have changed since.
final class ReadWindow {
    let capacity: Int
    private(set) var buffer: UnsafeMutablePointer<UInt8>
    /// Whether `buffer` is a real buffer taken from `spares` (else `spares.none`).
    private(set) var hasBuffer = false
    /// Where buffers come from, and the one the next chunk is being read into (only while a block
    /// before it is handed out): it and `buffer` then trade places.
    private let spares: ReadBufferPool
    private var aheadBuffer: UnsafeMutablePointer<UInt8>?
    /// The first byte not yet handed out.
    var start = 0
    /// One past the last byte read.
    private(set) var end = 0
    /// File offset of `buffer[0]`.
    private(set) var fileOffset: Int64 = 0
    /// The file's first bytes (up to the head window), for a checkpoint's head hash.
    private(set) var head: [UInt8] = []
    /// The last bytes before `fileOffset` (up to the tail window).
    private var streamTail: [UInt8] = []

    init(capacity: Int, spares: ReadBufferPool) {
        self.capacity = capacity
        self.spares = spares
        self.buffer = spares.none
    }

    deinit {
        if hasBuffer { spares.give(buffer, capacity: capacity) }
        if let aheadBuffer { spares.give(aheadBuffer, capacity: capacity) }
    }

    /// The file offset just past the last byte read.
    var readOffset: Int64 { fileOffset + Int64(end) }

    /// Takes a buffer from the pool before reading.
    func takeBuffer() {
        guard !hasBuffer else { return }
        buffer = spares.take(capacity: capacity)
        hasBuffer = true
    }

    /// Gives the buffer back to the pool (nothing may be left in it to hand out).
    func releaseBuffer() {
        guard hasBuffer else { return }
        spares.give(buffer, capacity: capacity)
        buffer = spares.none
        hasBuffer = false
    }

    /// Starts over at `offset` of `fd`: empty, with the head and the bytes before `offset` read.
    func reset(fd: Int32, at offset: Int64) {
        fileOffset = offset
        start = 0
        end = 0
        head = preadFully(fd, count: Checkpoint.headWindow, at: 0)
        let window = Int(min(Int64(Checkpoint.tailWindow), offset))
        streamTail = preadFully(fd, count: window, at: offset - Int64(window))
    }

    /// Forgets the unread rest, to be read again from `offset` (a closed file's committed position).
    func rewindUnread(to offset: Int64) {
        start = 0
        end = 0
        fileOffset = offset
    }

    /// Skips everything read: `start` moves to `end`.
    func consumeAll() { start = end }

    /// One `read(2)` into the free space after `end`: the bytes read (0 at end of file, -1 on an
    /// error, with `errno` set).
    func fill(from fd: Int32) -> Int {
        let n = read(fd, buffer + end, capacity - end)
        if n > 0 {
            end += n
            refreshHead(fd: fd)
        }
        return n
    }

    /// Starts reading the next chunk into the spare buffer, behind the `end - blockEnd` bytes of
    /// partial line that follow the block (copied there first).
    func readAhead(fd: Int32, after blockEnd: Int) -> ReadAhead {
        let target = spares.take(capacity: capacity)
        aheadBuffer = target
        let partial = end - blockEnd
        target.update(from: buffer + blockEnd, count: partial)
        return ReadAhead(fd: fd, into: target + partial, capacity: capacity - partial)
    }

    /// The read ahead is waited for and its bytes dropped (the batch failed).
    func dropReadAhead() {
        if let target = aheadBuffer { spares.give(target, capacity: capacity) }
        aheadBuffer = nil
    }

    /// Once the block before it was handed out: the chunk read ahead becomes the buffer (the
    /// handed-out bytes leave as `discard` lets them go). Returns the read's result.
    func takeReadAhead(_ ahead: ReadAhead, fd: Int32, after blockEnd: Int) -> (count: Int, error: Int32) {
        let (n, error) = ahead.wait()
        let partial = end - blockEnd
        keepTail(of: blockEnd)
        spares.give(buffer, capacity: capacity)
        buffer = aheadBuffer!
        aheadBuffer = nil
        fileOffset += Int64(blockEnd)
        start = 0
        end = partial + max(0, n)
        if n > 0 { refreshHead(fd: fd) }
        return (n, error)
    }

    /// Drops `buffer[0..<count]`, keeping its last bytes for `tailBytes`.
    func discard(_ count: Int) {
        keepTail(of: count)
        if end > count { memmove(buffer, buffer + count, end - count) }
        fileOffset += Int64(count)
        end -= count
        start = max(0, start - count)
    }

    /// The tail-window bytes just before `offset`, from what was read; nil when not at hand.
    func tailBytes(before offset: Int64) -> [UInt8]? {
        let want = Int(min(Int64(Checkpoint.tailWindow), offset))
        guard offset >= fileOffset, offset <= readOffset else { return nil }
        let inBuffer = Int(offset - fileOffset)
        let fromBuffer = min(want, inBuffer)
        let needFromStream = want - fromBuffer
        guard needFromStream <= streamTail.count else { return nil }
        return Array(streamTail.suffix(needFromStream)) + Array(UnsafeBufferPointer(start: buffer + (inBuffer - fromBuffer), count: fromBuffer))
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

    /// A file shorter than the head window when it was opened: its head grows as it is read.
    private func refreshHead(fd: Int32) {
        if head.count < Checkpoint.headWindow && readOffset > Int64(head.count) {
            head = preadFully(fd, count: Checkpoint.headWindow, at: 0)
        }
    }
}
