import Testing
@testable import EximStats
import TailWatchEngine

/// `FieldScanner.tokenEnd` looks at eight bytes at a time; these check it against the plain
/// byte-by-byte rule on every length, offset and mix of spaces, quotes and escapes.
@Suite struct FieldScannerTests {
    /// The rule, one byte at a time: a token ends at the first space outside quotes; a quote runs
    /// to the next unescaped quote (or the end).
    static func referenceEnd(_ bytes: [UInt8], from: Int) -> Int {
        var k = from
        while k < bytes.count, bytes[k] != 0x20 {
            if bytes[k] == 0x22 {
                k += 1
                while k < bytes.count {
                    if bytes[k] == 0x5C { k += 2; continue }
                    if bytes[k] == 0x22 { k += 1; break }
                    k += 1
                }
                k = min(k, bytes.count)
                continue
            }
            k += 1
        }
        return k
    }

    @Test func tokenEndAgreesWithTheByteRule() {
        // Bytes that matter (space, quote, backslash), their near neighbours in bits (0x21, 0x23,
        // 0xA0, 0xA2: one bit off), and ordinary ones.
        let alphabet: [UInt8] = [0x20, 0x22, 0x5C, 0x21, 0x23, 0xA0, 0xA2, 0x61, 0x62, 0x00, 0xFF]
        var rng = SystemRandomNumberGenerator()
        var checked = 0
        for length in 0...40 {
            for _ in 0..<200 {
                let bytes = (0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] }
                bytes.withUnsafeBufferPointer { buffer in
                    let line = ByteLine(base: buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!, count: length)
                    for from in 0...length {
                        let scanner = FieldScanner(line: line, from: from, end: length)
                        let got = scanner.tokenEnd(from: from)
                        let want = Self.referenceEnd(bytes, from: from)
                        if got != want { Issue.record("\(bytes) from \(from): \(got), expected \(want)") }
                        checked += 1
                    }
                }
            }
        }
        #expect(checked > 100_000)
    }

    @Test func tokenEndStopsAtTheRangesEnd() {
        // The scanner's range may end before the line does: nothing past it is looked at.
        let bytes = Array("abcdefghijklmnop qrs".utf8)
        bytes.withUnsafeBufferPointer { buffer in
            let line = ByteLine(base: buffer.baseAddress!, count: bytes.count)
            #expect(FieldScanner(line: line, from: 0, end: 10).tokenEnd(from: 0) == 10)
            #expect(FieldScanner(line: line, from: 0, end: bytes.count).tokenEnd(from: 0) == 16)
            #expect(FieldScanner(line: line, from: 0, end: bytes.count).tokenEnd(from: 3) == 16)
        }
    }
}
