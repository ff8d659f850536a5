import Foundation
import TailWatchEngine

/// The cheap test a line must pass before its regex runs: it contains a fixed byte string.
///
/// Why: most lines of a shared log (auth.log, an access log) are not the ones a custom driver
/// wants; finding the literal's rarest-looking byte with `memchr` and comparing the rest is several
/// times cheaper than running even a JIT-compiled pattern on every line.
struct LiteralFilter: Sendable {
    private let needle: [UInt8]

    init?(_ literal: String) {
        guard !literal.isEmpty else { return nil }
        needle = Array(literal.utf8)
    }

    @inline(__always)
    func passes(_ line: ByteLine) -> Bool {
        let n = needle.count
        guard line.count >= n else { return false }
        return needle.withUnsafeBufferPointer { needle in
            let first = needle[0]
            var i = 0
            let last = line.count - n
            while i <= last {
                guard let hit = memchr(line.base + i, Int32(first), last - i + 1) else { return false }
                let at = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - line.base
                if memcmp(line.base + at, needle.baseAddress!, n) == 0 { return true }
                i = at + 1
            }
            return false
        }
    }
}
