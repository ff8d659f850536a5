import Glibc

/// The complete lines of one read of one file, handed to a driver at once, with the tally of what
/// became of them.
///
/// Why: during a catch-up the engine hands out millions of lines, and a call through the driver
/// protocol plus the engine's bookkeeping per line cost about as much as parsing the line. A
/// driver walks a block in a loop of its own (`next()`), says what each line gave (`stored`,
/// `ignored`, `reject`), and the engine adds the tally up once per block. The rules stay the
/// engine's: a line holding a NUL byte or longer than `max_line_bytes` is never handed out (it is
/// counted and rejected here), and a trailing CR is not part of the line.
///
/// The lines borrow the tailer's buffer: like a `ByteLine`, nothing of them outlives the call. A
/// driver may `split` a large block and walk the parts on other threads while its `ingest` waits for
/// them (the buffer is neither written nor freed meanwhile), then `merge` their tallies back.
/// Unchecked: it holds a pointer into the tailer's buffer, which stays valid and unwritten while
/// the parts of a split block are walked (the engine's thread waits in `ingest`).
public struct LineBlock: @unchecked Sendable {
    private let base: UnsafePointer<UInt8>
    private let end: UnsafePointer<UInt8>
    private var cursor: UnsafePointer<UInt8>
    /// The line `next()` handed out last (its count is -1 when there is none: before the first,
    /// after the last, after a split).
    private var current: ByteLine
    private let fileOffset: Int64
    private let maxLine: Int
    /// Whether a NUL byte occurs anywhere in the block: one `memchr` over the block, made by the
    /// thread that walks it (the parts of a split block each check their own bytes); lines are
    /// only checked one by one when it does.
    private var holdsNUL = false
    private var checkedForNUL = false

    /// Every line of the block taken so far, including those `next()` rejected itself.
    public private(set) var linesRead = 0
    public private(set) var events = 0
    public private(set) var ignoredLines = 0
    /// Lines `next()` skipped as longer than `max_line_bytes`: their offsets.
    private(set) var overlong: [Int64] = []
    /// Rejected lines: why, where, and the line (for the warning; valid while the block is).
    private(set) var rejections: [(reason: RejectReason, offset: Int64, line: ByteLine)] = []

    /// `bytes` must end with a newline (every line in it is complete).
    init(bytes: UnsafePointer<UInt8>, count: Int, fileOffset: Int64, maxLine: Int) {
        base = bytes
        end = bytes + count
        cursor = bytes
        current = ByteLine(base: bytes, count: -1)
        self.fileOffset = fileOffset
        self.maxLine = maxLine
    }

    /// The bytes not yet taken.
    public var remainingBytes: Int { end - cursor }

    /// Hands the lines not yet taken to at most `parts` blocks of about equal size (cut at line
    /// ends), to be walked separately; this block then has none left. Give the parts back to
    /// `merge` once they are walked.
    public mutating func split(into parts: Int) -> [LineBlock] {
        precondition(parts >= 1, "a block is split into one part or more")
        var result: [LineBlock] = []
        var from = cursor
        for part in 0..<parts where from < end {
            var cut = end
            if part < parts - 1 {
                let target = from + (end - from) / (parts - part)
                // The end of the line holding `target` (there is always a newline at `end - 1`).
                cut = UnsafePointer<UInt8>(memchr(target, 0x0A, end - target)!.assumingMemoryBound(to: UInt8.self)) + 1
            }
            result.append(LineBlock(bytes: from, count: cut - from, fileOffset: offset(of: from), maxLine: maxLine))
            from = cut
        }
        cursor = end
        current = ByteLine(base: end, count: -1)
        return result
    }

    /// Adds the tallies of the parts `split` made, in their order. Every part must have been
    /// walked to its end: lines a driver dropped would be committed as read.
    public mutating func merge(_ parts: [LineBlock]) {
        for part in parts {
            precondition(part.remainingBytes == 0, "a part of a split block was not walked to its end")
            linesRead += part.linesRead
            events += part.events
            ignoredLines += part.ignoredLines
            overlong += part.overlong
            rejections += part.rejections
        }
    }

    /// The next line to interpret, or nil at the end of the block.
    @inline(__always) public mutating func next() -> ByteLine? {
        if !checkedForNUL {
            holdsNUL = memchr(cursor, 0, end - cursor) != nil
            checkedForNUL = true
        }
        while cursor < end {
            let from = cursor
            // Every block ends with a newline, so there is always one ahead.
            let newline = UnsafePointer<UInt8>(memchr(from, 0x0A, end - from)!.assumingMemoryBound(to: UInt8.self))
            cursor = newline + 1
            linesRead += 1
            var n = newline - from
            if n > 0 && from[n - 1] == 0x0D { n -= 1 }
            if n > maxLine {
                overlong.append(offset(of: from))
                continue
            }
            let line = ByteLine(base: from, count: n)
            if holdsNUL && line.containsNUL {
                rejections.append((.nulByte, offset(of: from), line))
                continue
            }
            current = line
            return line
        }
        current = ByteLine(base: end, count: -1)
        return nil
    }

    /// The line last handed out produced `count` events in the open batch.
    @inline(__always) public mutating func stored(events count: Int = 1) { events += count }

    /// The line last handed out carries nothing for this driver.
    @inline(__always) public mutating func ignored() { ignoredLines += 1 }

    /// The line last handed out could not be read.
    public mutating func reject(_ reason: RejectReason) {
        assert(current.count >= 0, "reject() without a line handed out")
        rejections.append((reason, offset(of: current.base), ByteLine(base: current.base, count: max(0, current.count))))
    }

    /// Tallies a per-line outcome for the line last handed out.
    @inline(__always) public mutating func record(_ outcome: LineOutcome) {
        switch outcome {
        case .stored(let count): events += count
        case .ignored: ignoredLines += 1
        case .rejected(let reason): reject(reason)
        }
    }

    private func offset(of line: UnsafePointer<UInt8>) -> Int64 { fileOffset + Int64(line - base) }
}
