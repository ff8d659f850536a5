import Foundation

/// Walks blocks of lines on two threads, like `TwoThreadWalk`, and then finishes each piece, in
/// the log's order and one at a time, on whichever thread is free, also after `run` has returned:
/// the finishing of one block goes on while the next block is walked and consumed.
///
/// Why: when the finishing step (writing rows to SQLite) is the longest of the three, a block that
/// must be finished before the next is read leaves a core idle twice per block: at its start the
/// helper waits for the first piece to be consumed, at its end the engine's thread waits for the
/// last ones to be written. Across blocks, the writing runs without those gaps. The price: a
/// piece must not borrow the block's bytes (the walk copies what the piece keeps), and nothing
/// else may use the database until `settle()` returned (the engine calls it through
/// `LogDriver.settle()` before a commit, a tick, a rollback, or another driver's lines).
///
/// Pieces live in `slots` places reused in turn: piece number `t` is walked into slot
/// `t % slots` once piece `t - slots + 1` is finished. The slot's previous piece is then finished,
/// and so is the one after it: a finish may leave data that refers to its own piece (rows waiting
/// for a multi-row INSERT) until the next piece is finished.
///
/// `walk(slot, worker, &part)` runs on either thread (`worker` 0 is the caller's, 1 the helper's)
/// and must walk `part` to its end; `consume(slot)` runs on the caller, in order; `finish(slot)`
/// on either thread, in order. After a failure (a finish or a consume threw) no piece is finished
/// any more; `settle()` throws it, and `reset()` forgets the pieces not finished (the caller undoes
/// them, as the engine rolls the batch back).
public final class PipelinedWalk: @unchecked Sendable {
    // Unchecked: `schedule` holds the shared state under its lock; `helper` is touched by the caller only.
    private let schedule: Schedule
    private var helper: Thread?
    public let slots: Int
    public let piecesPerBlock: Int

    public init(
        slots: Int, piecesPerBlock: Int,
        walk: @escaping @Sendable (_ slot: Int, _ worker: Int, inout LineBlock) -> Void,
        finish: @escaping @Sendable (_ slot: Int) throws -> Void
    ) {
        precondition((1...64).contains(piecesPerBlock) && slots > piecesPerBlock, "up to 64 pieces a block, more slots than that")
        self.slots = slots
        self.piecesPerBlock = piecesPerBlock
        schedule = Schedule(slots: slots, walk: walk, finish: finish)
    }

    deinit { stop() }

    /// Stops the helper thread (after its current job) and waits for it to end: what `finish`
    /// holds (a driver's prepared statements) is then let go with this walk, before the engine
    /// closes the database. Only once nothing is to be finished.
    public func stop() {
        guard helper != nil else { return }
        schedule.stop()
        helper = nil
    }

    /// Walks `block` on both threads and consumes its pieces in order; returns once every piece
    /// is consumed, with finishes perhaps still running. Throws a consume's failure, or a
    /// finish's (of this block or an earlier one).
    public func run(_ block: inout LineBlock, consume: (_ slot: Int) throws -> Void) throws {
        if helper == nil {
            let schedule = self.schedule
            schedule.helperStarted()
            let thread = Thread { schedule.helperLoop() }
            thread.name = "pipelined-walk"
            thread.start()
            helper = thread
        }
        var parts = block.split(into: piecesPerBlock)
        try parts.withUnsafeMutableBufferPointer { buffer in
            let first = schedule.begin(SharedBlock(parts: buffer))
            // The helper walks the block's bytes: it must be done with them before they go.
            defer { schedule.endBlock() }
            for i in 0..<buffer.count {
                while let job = schedule.nextForCaller(waitingFor: first + i) { schedule.run(job, worker: 0) }
                try schedule.check()
                try consume((first + i) % slots)
                schedule.consumed(first + i)
            }
        }
        block.merge(parts)
    }

    /// Finishes every consumed piece (the caller takes finishes too, rather than wait); throws the
    /// first failure of a finish.
    public func settle() throws {
        try schedule.settle()
    }

    /// Forgets the pieces consumed but not finished, and any failure: for after a rollback. Waits
    /// for a finish still running.
    public func reset() {
        schedule.reset()
    }
}

/// The parts of the block being walked.
/// Unchecked: each part is walked by one thread; the schedule hands each out once.
private struct SharedBlock: @unchecked Sendable {
    let parts: UnsafeMutableBufferPointer<LineBlock>
}

/// Which pieces exist, are walked, consumed and finished; one lock, signalled at every step (a
/// block has at most 64 pieces, so this is far off the per-line path).
private final class Schedule: @unchecked Sendable {
    enum Job {
        /// Part `index` of the block, piece number `piece`.
        case walk(SharedBlock, index: Int, piece: Int)
        case finish(piece: Int)
    }

    // Unchecked: every field is read and written with `condition` locked.
    private let condition = NSCondition()
    private let slots: Int
    private let walkPart: @Sendable (Int, Int, inout LineBlock) -> Void
    private let finishPiece: @Sendable (Int) throws -> Void
    /// Pieces numbered so far; those below `consumed` are consumed, below `finished` finished.
    private var created = 0
    private var consumedCount = 0
    private var finishedCount = 0
    private var finishing = false
    private var failure: (any Error)?
    private var stopping = false
    private var helperRunning = false
    /// The block being walked: its parts, the number of its first piece, the next part to hand
    /// out, which are walked, and how many walks are running.
    private var block: SharedBlock?
    private var first = 0
    private var nextPart = 0
    private var walked: UInt64 = 0
    private var walking = 0

    init(slots: Int, walk: @escaping @Sendable (Int, Int, inout LineBlock) -> Void, finish: @escaping @Sendable (Int) throws -> Void) {
        self.slots = slots
        self.walkPart = walk
        self.finishPiece = finish
    }

    func begin(_ parts: SharedBlock) -> Int {
        condition.lock()
        defer { condition.unlock() }
        block = parts
        first = created
        nextPart = 0
        walked = 0
        created += parts.parts.count
        condition.broadcast()
        return first
    }

    /// No part of the block is handed out any more; returns once no walk of it is running.
    func endBlock() {
        condition.lock()
        defer { condition.unlock() }
        if let block { nextPart = block.parts.count }
        while walking > 0 { condition.wait() }
        block = nil
    }

    private func takeFinish() -> Job? {
        guard !finishing, failure == nil, finishedCount < consumedCount else { return nil }
        finishing = true
        return .finish(piece: finishedCount)
    }

    /// The next part of the block, once its slot's earlier pieces (and the one after) are finished.
    private func takeWalk() -> Job? {
        guard let block, nextPart < block.parts.count else { return nil }
        let piece = first + nextPart
        guard piece - slots + 1 < finishedCount else { return nil }
        nextPart += 1
        walking += 1
        return .walk(block, index: nextPart - 1, piece: piece)
    }

    func helperStarted() {
        condition.lock()
        helperRunning = true
        condition.unlock()
    }

    func helperLoop() {
        while let job = nextForHelper() { run(job, worker: 1) }
        condition.lock()
        helperRunning = false
        condition.broadcast()
        condition.unlock()
    }

    /// A finish first (the in-order step everything else waits on), else a walk; nil once stopped.
    private func nextForHelper() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if stopping { return nil }
            if let job = takeFinish() ?? takeWalk() { return job }
            condition.wait()
        }
    }

    /// Before consuming piece `piece`: a walk for the caller, or a finish when nothing else can
    /// move (every slot waits for one); nil once the piece is walked or a finish failed.
    func nextForCaller(waitingFor piece: Int) -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if failure != nil || walked & (1 << UInt64(piece - first)) != 0 { return nil }
            if let job = takeWalk() { return job }
            if nextPart == (block?.parts.count ?? 0) || walking > 0 {
                // Piece `piece` is being walked by the helper: wait for it.
            } else if let job = takeFinish() {
                return job
            }
            condition.wait()
        }
    }

    func run(_ job: Job, worker: Int) {
        switch job {
        case .walk(let block, let index, let piece):
            // The block's parts stay until `endBlock` saw this walk done.
            walkPart(piece % slots, worker, &block.parts[index])
            condition.lock()
            walked |= 1 << UInt64(index)
            walking -= 1
            condition.broadcast()
            condition.unlock()
        case .finish(let piece):
            var error: (any Error)?
            do { try finishPiece(piece % slots) } catch let failed { error = failed }
            condition.lock()
            finishing = false
            if let error { failure = failure ?? error } else { finishedCount += 1 }
            condition.broadcast()
            condition.unlock()
        }
    }

    func consumed(_ piece: Int) {
        condition.lock()
        consumedCount = piece + 1
        condition.broadcast()
        condition.unlock()
    }

    func check() throws {
        condition.lock()
        let failure = self.failure
        condition.unlock()
        if let failure { throw failure }
    }

    func settle() throws {
        condition.lock()
        while true {
            if let failure {
                condition.unlock()
                throw failure
            }
            if finishedCount == consumedCount && !finishing { break }
            if let job = takeFinish() {
                condition.unlock()
                run(job, worker: 0)
                condition.lock()
                continue
            }
            condition.wait()
        }
        condition.unlock()
    }

    func reset() {
        condition.lock()
        while finishing || walking > 0 { condition.wait() }
        failure = nil
        consumedCount = created
        finishedCount = created
        condition.unlock()
    }

    /// Stops the helper and waits until its loop has ended.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while helperRunning { condition.wait() }
        condition.unlock()
    }
}
