import Dispatch
import Foundation
/// Walks a large block of lines on two threads: the engine's (the caller) and a helper. The block
/// is cut into pieces at line ends; whichever thread is free takes the next piece, and the caller
/// hands each piece, in the block's order, to `consume` as soon as it is walked. With `finish`, a
/// third step runs on each consumed piece, in order, on whichever thread is free.
///
/// Why: during a catch-up, parsing lines and writing their rows each take about half of a core; on
/// two cores the helper parses ahead while the engine's thread writes what was parsed before, and
/// anything order matters for (a delivery's sender is found from its message's arrival, which may
/// sit one piece earlier) stays exact because `consume` runs in order, on the engine's thread.
/// When writing the rows (SQLite) is itself most of the work, `finish` takes it off the engine's
/// thread: piece i's rows are written while piece i+1 is consumed, so the in-order work runs on
/// both cores. `consume` must then not touch the database: only `finish` does, one piece at a time.
///
/// `walk(piece, worker, &part)` runs on either thread (`worker` 0 is the caller, 1 the helper, so
/// each can keep state of its own) and must walk `part` to its end, recording each line's outcome
/// in it. `beforehand` runs on the caller while the helper starts. The block's buffer stays valid
/// until `run` returns: it returns only after the helper stopped. Normally every piece was then
/// consumed and finished; when `consume` or `finish` throws, the first error is rethrown and the
/// pieces not reached are neither consumed nor finished (the caller undoes the block, as the
/// engine rolls the batch back).
public enum TwoThreadWalk {
    /// Blocks smaller than this (a live log's few new lines) are not worth a second thread.
    public static let minimumBytes = 256 << 10
    public static let cores = ProcessInfo.processInfo.activeProcessorCount

    /// Whether `block` is large enough, and the machine has the cores, to walk it on two threads.
    public static func worthIt(_ block: LineBlock) -> Bool {
        cores > 1 && block.remainingBytes >= minimumBytes
    }

    public static func run(
        _ block: inout LineBlock, pieces count: Int,
        beforehand: () throws -> Void = {},
        walk: @escaping @Sendable (_ piece: Int, _ worker: Int, inout LineBlock) -> Void,
        consume: (_ piece: Int) throws -> Void = { _ in },
        finish: (@Sendable (_ piece: Int) throws -> Void)? = nil
    ) throws {
        precondition((1...64).contains(count), "a block is walked in 1 to 64 pieces")
        var parts = block.split(into: count)
        let n = parts.count
        let schedule = PieceSchedule(count: n, finishes: finish != nil)
        let group = DispatchGroup()
        try parts.withUnsafeMutableBufferPointer { buffer in
            let shared = SharedParts(parts: buffer)
            let work = PieceWork(walk: walk, finish: finish, parts: shared)
            DispatchQueue.global().async(group: group) {
                while let job = schedule.nextForHelper() { work.run(job, worker: 1, in: schedule) }
            }
            // The helper reads the block's buffer: never leave before it is done.
            defer { group.wait() }
            do {
                try beforehand()
                for i in 0..<n {
                    // While piece `i` is not walked yet, this thread walks the next piece nobody took.
                    while let job = schedule.nextForCaller(waitingFor: i) { work.run(job, worker: 0, in: schedule) }
                    try schedule.check()
                    try consume(i)
                    schedule.consumed(i)
                }
                while let job = schedule.nextForCaller(waitingFor: nil) { work.run(job, worker: 0, in: schedule) }
                try schedule.check()
            } catch {
                schedule.cancel()
                throw error
            }
        }
        block.merge(parts)
    }
}

/// What either thread may run: walking a piece, or finishing one.
private enum PieceJob {
    case walk(Int)
    case finish(Int)
}

/// The two steps either thread runs, and the parts they walk.
/// Unchecked: pointers to the block's parts; `PieceSchedule` hands each piece out once per step,
/// and its lock orders a part's walk before its consumption and a piece's finish after both.
private struct PieceWork: @unchecked Sendable {
    let walk: @Sendable (Int, Int, inout LineBlock) -> Void
    let finish: (@Sendable (Int) throws -> Void)?
    let parts: SharedParts

    /// Runs a job the schedule handed out and tells it the job is done.
    func run(_ job: PieceJob, worker: Int, in schedule: PieceSchedule) {
        switch job {
        case .walk(let i):
            walk(i, worker, &parts.parts[i])
            schedule.done(job, error: nil)
        case .finish(let i):
            do {
                try finish?(i)
                schedule.done(job, error: nil)
            } catch {
                schedule.done(job, error: error)
            }
        }
    }
}

/// The parts of a block the two threads walk at once, each part by one thread only.
private struct SharedParts: @unchecked Sendable {
    let parts: UnsafeMutableBufferPointer<LineBlock>
}

/// Which pieces were taken, walked, consumed and finished; one lock, signalled at every step (a
/// block has at most 64 pieces, so this is far off the per-line path).
private final class PieceSchedule: @unchecked Sendable {
    // Unchecked: every field is read and written with `condition` locked.
    private let condition = NSCondition()
    private let count: Int
    private let finishes: Bool
    private var nextWalk = 0
    private var walked: UInt64 = 0
    private var consumedCount = 0
    private var finishedCount = 0
    private var finishing = false
    private var failure: (any Error)?
    private var cancelled = false

    init(count: Int, finishes: Bool) {
        self.count = count
        self.finishes = finishes
    }

    /// The next finish, when the piece before it is finished and it was consumed; else nil.
    private func takeFinish() -> PieceJob? {
        guard finishes, !finishing, failure == nil, !cancelled, finishedCount < consumedCount else { return nil }
        finishing = true
        return .finish(finishedCount)
    }

    private func takeWalk() -> PieceJob? {
        guard nextWalk < count, !cancelled else { return nil }
        nextWalk += 1
        return .walk(nextWalk - 1)
    }

    /// The helper: a finish first (the in-order step the rest waits on), else a walk; nil when
    /// nothing is left for it.
    func nextForHelper() -> PieceJob? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let job = takeFinish() ?? takeWalk() { return job }
            let allFinished = !finishes || finishedCount == count
            if allFinished || cancelled || failure != nil { return nil }
            condition.wait()
        }
    }

    /// The caller, before consuming piece `i` (or, with nil, after consuming the last): a walk
    /// (or, after the last, a finish); nil once piece `i` is walked (or every piece finished).
    func nextForCaller(waitingFor i: Int?) -> PieceJob? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if failure != nil { return nil }
            if let i {
                if walked & (1 << UInt64(i)) != 0 { return nil }
            } else if !finishes || finishedCount == count {
                return nil
            }
            if let job = takeWalk() { return job }
            // Finishing is the helper's, which it does first: the caller takes a finish only once
            // every piece is consumed (so that it never holds up the next piece's consumption).
            if i == nil, let job = takeFinish() { return job }
            condition.wait()
        }
    }

    func done(_ job: PieceJob, error: (any Error)?) {
        condition.lock()
        switch job {
        case .walk(let i): walked |= 1 << UInt64(i)
        case .finish:
            finishing = false
            if let error { failure = failure ?? error } else { finishedCount += 1 }
        }
        condition.broadcast()
        condition.unlock()
    }

    func consumed(_ i: Int) {
        condition.lock()
        consumedCount = i + 1
        condition.broadcast()
        condition.unlock()
    }

    /// Rethrows a finish's failure.
    func check() throws {
        condition.lock()
        let failure = self.failure
        condition.unlock()
        if let failure { throw failure }
    }

    /// The caller failed: nothing more is started; the helper stops after its current job.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}
