import Testing
@testable import TailWatchEngine

/// A block of lines walked whole, and split into parts walked apart and merged: the same lines,
/// the same tally, the same rejections at the same offsets.
@Suite struct LineBlockTests {
    /// What a walk gave: the lines handed out, and the block's tally.
    struct Walk: Equatable {
        var lines: [String] = []
        var read = 0, events = 0, ignored = 0
        var overlong: [Int64] = []
        var rejected: [String] = []
    }

    /// Lines starting with `#` are ignored, with `BAD` rejected, others stored.
    static func walk(_ block: inout LineBlock, into walk: inout Walk) {
        while let line = block.next() {
            walk.lines.append(line.string)
            if line.hasPrefix("#") {
                block.ignored()
            } else if line.hasPrefix("BAD") {
                block.reject(RejectReason("bad"))
            } else {
                block.stored()
            }
        }
    }

    static func tally(_ block: LineBlock, _ walk: inout Walk) {
        walk.read = block.linesRead
        walk.events = block.events
        walk.ignored = block.ignoredLines
        walk.overlong = block.overlong
        walk.rejected = block.rejections.map { "\($0.reason) @\($0.offset): \($0.line.string)" }
    }

    @Test func splitPartsGiveWhatTheWholeBlockGives() {
        var text: [UInt8] = []
        for i in 0..<500 {
            switch i % 11 {
            case 3: text += Array("# comment \(i)\n".utf8)
            case 5: text += Array("BAD \(i)\r\n".utf8)
            case 7: text += Array("nul \(i) \u{0} inside\n".utf8)
            case 9: text += Array(String(repeating: "x", count: 300 + i).utf8) + [0x0A]  // over maxLine
            default: text += Array("line \(i) with some words\r\n".utf8)
            }
        }
        text.withUnsafeBufferPointer { bytes in
            var whole = LineBlock(bytes: bytes.baseAddress!, count: bytes.count, fileOffset: 1000, maxLine: 256)
            var expected = Walk()
            Self.walk(&whole, into: &expected)
            Self.tally(whole, &expected)
            #expect(expected.read == 500)
            let count = { (k: Int) in (0..<500).filter { $0 % 11 == k }.count }
            #expect(expected.lines.count == 500 - count(7) - count(9))  // NUL and overlong lines are never handed out
            #expect(!expected.lines.contains { $0.hasSuffix("\r") })
            #expect(expected.rejected.count == count(5) + count(7))  // BAD lines and NUL lines
            #expect(expected.rejected.contains { $0.hasPrefix("NUL byte in line @") })
            #expect(expected.overlong.count == count(9))
            #expect(expected.overlong.first == 1000 + Int64(text.firstIndex(of: UInt8(ascii: "x"))!))
            for parts in [1, 2, 3, 8, 64, 1000] {
                var block = LineBlock(bytes: bytes.baseAddress!, count: bytes.count, fileOffset: 1000, maxLine: 256)
                _ = block.next()  // a line taken before the split stays the block's own
                var pieces = block.split(into: parts)
                #expect(pieces.count <= parts)
                #expect(block.next() == nil)
                var got = Walk()
                got.lines = ["line 0 with some words"]
                var pieceWalks: [Walk] = []
                for i in pieces.indices {
                    var w = Walk()
                    Self.walk(&pieces[i], into: &w)
                    pieceWalks.append(w)
                }
                for w in pieceWalks { got.lines += w.lines }
                block.stored()
                block.merge(pieces)
                Self.tally(block, &got)
                #expect(got == expected, "split into \(parts)")
            }
        }
    }
}
