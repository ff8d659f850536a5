import Dispatch
import Foundation
/// Walks a large block of lines on two threads: the engine's (the caller) and a helper. The block
/// is cut into pieces at line ends; whichever thread is free takes the next piece, and the caller
/// hands each piece, in the block's order, to `consume` as soon as it is walked.
///
/// Why: during a catch-up, parsing lines and adding them up each take about half of a core; on
/// two cores the helper parses ahead while the engine's thread consumes what was parsed before,
/// and anything order matters for stays exact because `consume` runs in order, on the engine's
/// thread. (When a third step, writing rows, is the longest, `PipelinedWalk` runs it across blocks.)
///
/// `walk(piece, worker, &part)` runs on either thread (`worker` 0 is the caller, 1 the helper, so
/// each can keep state of its own) and must walk `part` to its end, recording each line's outcome
/// in it. `beforehand` runs on the caller while the helper starts. The block's buffer stays valid
/// until `run` returns: it returns only after the helper stopped. Normally every piece was then
/// consumed; when `consume` throws, its error is rethrown and the pieces not reached are not
/// consumed (the caller undoes the block, as the engine rolls the batch back).
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
        consume: (_ piece: Int) throws -> Void = { _ in }
    ) throws {
        precondition((1...64).contains(count), "a block is walked in 1 to 64 pieces")
        var parts = block.split(into: count)
        let n = parts.count
        let schedule = PieceSchedule(count: n)
        let group = DispatchGroup()
        try parts.withUnsafeMutableBufferPointer { buffer in
            let shared = SharedParts(parts: buffer)
            let work = PieceWork(walk: walk, parts: shared)
            DispatchQueue.global().async(group: group) {
                while let piece = schedule.nextForHelper() { work.run(piece, worker: 1, in: schedule) }
            }
            // The helper reads the block's buffer: never leave before it is done.
            defer { group.wait() }
            do {
                try beforehand()
                for i in 0..<n {
                    // While piece `i` is not walked yet, this thread walks the next piece nobody took.
                    while let piece = schedule.nextForCaller(waitingFor: i) { work.run(piece, worker: 0, in: schedule) }
                    try consume(i)
                }
            } catch {
                schedule.cancel()
                throw error
            }
        }
        block.merge(parts)
    }
}

/// The walk either thread runs, and the parts it walks.
/// Unchecked: pointers to the block's parts; `PieceSchedule` hands each piece out once, and its
/// lock orders a part's walk before its consumption.
private struct PieceWork: @unchecked Sendable {
    let walk: @Sendable (Int, Int, inout LineBlock) -> Void
    let parts: SharedParts

    /// Walks a piece the schedule handed out and tells it the piece is walked.
    func run(_ piece: Int, worker: Int, in schedule: PieceSchedule) {
        walk(piece, worker, &parts.parts[piece])
        schedule.walked(piece)
    }
}

/// The parts of a block the two threads walk at once, each part by one thread only.
private struct SharedParts: @unchecked Sendable {
    let parts: UnsafeMutableBufferPointer<LineBlock>
}

/// Which pieces were taken and walked; one lock, signalled at every step (a block has at most 64
/// pieces, so this is far off the per-line path).
private final class PieceSchedule: @unchecked Sendable {
    // Unchecked: every field is read and written with `condition` locked.
    private let condition = NSCondition()
    private let count: Int
    private var nextWalk = 0
    private var walkedPieces: UInt64 = 0
    private var cancelled = false

    init(count: Int) {
        self.count = count
    }

    private func take() -> Int? {
        guard nextWalk < count, !cancelled else { return nil }
        nextWalk += 1
        return nextWalk - 1
    }

    /// The helper: the next piece nobody took; nil when none is left.
    func nextForHelper() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        return take()
    }

    /// The caller, before consuming piece `i`: a piece to walk; nil once piece `i` is walked.
    func nextForCaller(waitingFor i: Int) -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if walkedPieces & (1 << UInt64(i)) != 0 { return nil }
            if let piece = take() { return piece }
            condition.wait()
        }
    }

    func walked(_ piece: Int) {
        condition.lock()
        walkedPieces |= 1 << UInt64(piece)
        condition.broadcast()
        condition.unlock()
    }

    /// The caller failed: nothing more is started; the helper stops after its current piece.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}
