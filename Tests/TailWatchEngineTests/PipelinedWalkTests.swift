import Foundation
import Testing
@testable import TailWatchEngine

/// Blocks walked on two threads whose pieces are finished after `run` returned: every line once,
/// in order, a slot never walked again before its piece (and the one after it) is finished, and a
/// finish's failure surfaces later, after which `reset` lets the walk go on.
@Suite struct PipelinedWalkTests {
    /// What the three steps did, recorded as they ran (the finish copies what it read of its slot).
    final class Record: @unchecked Sendable {
        // Unchecked: every field is touched with `lock` held.
        private let lock = NSLock()
        /// Each slot's lines, as its walk copied them (the block's buffer is reused after `run`).
        private var slots: [[String]]
        private var finishedPieces = 0
        private(set) var finished: [String] = []
        private(set) var consumed: [String] = []
        private(set) var problems: [String] = []
        /// The piece number each slot holds.
        private var pieceInSlot: [Int]
        private var walkedPieces = 0
        var failAtPiece: Int?

        init(slots: Int) {
            self.slots = Array(repeating: [], count: slots)
            pieceInSlot = Array(repeating: -1, count: slots)
        }

        func walked(_ slot: Int, lines: [String], slotCount: Int) {
            lock.withLock {
                // Pieces are walked in order of their numbers; the slot's last piece and the one after it are finished.
                let piece = pieceInSlot[slot] == -1 ? slot : pieceInSlot[slot] + slotCount
                if piece - slotCount + 1 >= finishedPieces && pieceInSlot[slot] != -1 {
                    problems.append("slot \(slot) walked again for piece \(piece) with only \(finishedPieces) pieces finished")
                }
                pieceInSlot[slot] = piece
                slots[slot] = lines
                walkedPieces += 1
            }
        }

        func consume(_ slot: Int) {
            lock.withLock { consumed += slots[slot] }
        }

        func finish(_ slot: Int) throws {
            try lock.withLock {
                if let fail = failAtPiece, fail == finishedPieces {
                    failAtPiece = nil
                    throw StoreError.sqlite(code: 13, message: "database or disk is full", sql: "INSERT")
                }
                if pieceInSlot[slot] != finishedPieces { problems.append("slot \(slot) finished out of order") }
                finished += slots[slot]
                finishedPieces += 1
            }
        }

        var snapshot: (finished: [String], consumed: [String], problems: [String]) {
            lock.withLock { (finished, consumed, problems) }
        }
    }

    static func walk(slots: Int, pieces: Int, record: Record) -> PipelinedWalk {
        PipelinedWalk(slots: slots, piecesPerBlock: pieces) { slot, _, part in
            var lines: [String] = []
            while let line = part.next() {
                lines.append(line.string)
                part.stored()
            }
            record.walked(slot, lines: lines, slotCount: slots)
        } finish: { slot in
            try record.finish(slot)
        }
    }

    /// `lines` as one block in `buffer` (which the caller overwrites afterwards, as the tailer does).
    static func block(_ lines: [String], in buffer: inout [UInt8]) {
        buffer = Array((lines.joined(separator: "\n") + "\n").utf8)
    }

    @Test func everyLineIsConsumedAndFinishedOnceInOrderAcrossBlocks() throws {
        let record = Record(slots: 6)
        let walk = Self.walk(slots: 6, pieces: 4, record: record)
        defer { walk.stop() }
        var expected: [String] = []
        var buffer: [UInt8] = []
        for b in 0..<40 {
            let lines = (0..<(50 + b * 7)).map { "block \(b) line \($0)" }
            expected += lines
            Self.block(lines, in: &buffer)
            try buffer.withUnsafeBufferPointer { bytes in
                var block = LineBlock(bytes: bytes.baseAddress!, count: bytes.count, fileOffset: 0, maxLine: 1 << 20)
                try walk.run(&block) { slot in record.consume(slot) }
                #expect(block.linesRead == lines.count && block.events == lines.count)
            }
            // The tailer reuses its buffer for the next read: pieces still to finish must not notice.
            for k in buffer.indices { buffer[k] = 0x58 }
        }
        try walk.settle()
        let (finished, consumed, problems) = record.snapshot
        #expect(problems.isEmpty, "\(problems.prefix(3))")
        #expect(consumed == expected)
        #expect(finished == expected)
    }

    @Test func aFinishThatFailsSurfacesLaterAndResetLetsTheWalkGoOn() throws {
        let record = Record(slots: 8)
        record.failAtPiece = 5
        let walk = Self.walk(slots: 8, pieces: 4, record: record)
        defer { walk.stop() }
        var buffer: [UInt8] = []
        var failures = 0
        for b in 0..<6 {
            Self.block((0..<64).map { "first \(b) \($0)" }, in: &buffer)
            do {
                try buffer.withUnsafeBufferPointer { bytes in
                    var block = LineBlock(bytes: bytes.baseAddress!, count: bytes.count, fileOffset: 0, maxLine: 1 << 20)
                    try walk.run(&block) { slot in record.consume(slot) }
                }
            } catch {
                failures += 1
                break
            }
        }
        #expect(throws: StoreError.self) { try walk.settle() }
        #expect(failures <= 1)
        // The pieces before the failing one were finished, in order; none after it.
        let (before, consumed, _) = record.snapshot
        #expect(before == Array(consumed.prefix(before.count)))
        #expect(before.count > 0 && before.count < consumed.count)
        walk.reset()
        let after = (0..<100).map { "after \($0)" }
        Self.block(after, in: &buffer)
        try buffer.withUnsafeBufferPointer { bytes in
            var block = LineBlock(bytes: bytes.baseAddress!, count: bytes.count, fileOffset: 0, maxLine: 1 << 20)
            try walk.run(&block) { slot in record.consume(slot) }
        }
        try walk.settle()
        #expect(Array(record.snapshot.finished.dropFirst(before.count)) == after)
    }
}
