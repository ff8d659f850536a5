import Dispatch
import Foundation
import Synchronization

/// Walks a large block of lines on two threads: the engine's (the caller) and a helper. The block
/// is cut into pieces at line ends; whichever thread is free takes the next piece, and the caller
/// hands each piece, in the block's order, to `consume` as soon as it is walked.
///
/// Why: during a catch-up, parsing lines and writing their rows each take about half of a core; on
/// two cores the helper parses ahead while the engine's thread writes what was parsed before, and
/// anything order matters for (a delivery's sender is found from its message's arrival, which may
/// sit one piece earlier) stays exact because `consume` runs in order, on the engine's thread.
///
/// `walk(piece, worker, &part)` runs on either thread (`worker` 0 is the caller, 1 the helper, so
/// each can keep state of its own) and must walk `part` to its end, recording each line's outcome
/// in it. `beforehand` runs on the caller while the helper starts. The block's buffer stays valid
/// until `run` returns: it returns only after the helper finished, also when `consume` throws.
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
        let progress = PieceProgress()
        let group = DispatchGroup()
        try parts.withUnsafeMutableBufferPointer { buffer in
            let shared = SharedParts(parts: buffer)
            DispatchQueue.global().async(group: group) {
                while let i = progress.take(below: n) {
                    walk(i, 1, &shared.parts[i])
                    progress.finished(i)
                }
            }
            // The helper reads the block's buffer: never leave before it is done.
            defer { group.wait() }
            try beforehand()
            for i in 0..<n {
                // While piece `i` is not walked yet, this thread walks the next piece nobody took.
                while !progress.isFinished(i), let j = progress.take(below: n) {
                    walk(j, 0, &shared.parts[j])
                    progress.finished(j)
                }
                progress.wait(for: i)
                try consume(i)
            }
        }
        block.merge(parts)
    }
}

/// The parts of a block the two threads walk at once, each part by one thread only.
/// Unchecked: pointers to the block's parts; `PieceProgress` hands each index out once, and the
/// caller reads a part only after its walker set its bit (release/acquire).
private struct SharedParts: @unchecked Sendable {
    let parts: UnsafeMutableBufferPointer<LineBlock>
}

/// Which pieces were taken, and which were walked (one bit each; at most 64 pieces).
private final class PieceProgress: Sendable {
    private let next = Atomic<Int>(0)
    private let walked = Atomic<UInt64>(0)
    /// Signalled once per piece walked; the waiter checks `walked` again each time it wakes.
    private let signal = DispatchSemaphore(value: 0)

    /// The next piece nobody took yet, now the caller's.
    func take(below count: Int) -> Int? {
        let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
        return i < count ? i : nil
    }

    func isFinished(_ i: Int) -> Bool { walked.load(ordering: .acquiring) & (1 << UInt64(i)) != 0 }

    func finished(_ i: Int) {
        walked.bitwiseOr(1 << UInt64(i), ordering: .releasing)
        signal.signal()
    }

    func wait(for i: Int) {
        while !isFinished(i) { signal.wait() }
    }
}
