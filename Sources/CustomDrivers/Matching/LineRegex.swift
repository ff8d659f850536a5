import TailWatchEngine

/// A compiled PCRE2 pattern with named captures, matched against a line's bytes.
///
/// Why PCRE2 and not Swift's `Regex` or `NSRegularExpression`: an operator's pattern runs on every
/// line of a log, so it needs PCRE2's JIT to be fast, and it must not be able to stall the daemon,
/// so it needs PCRE2's match limit: `(a+)+$` against a long run of `a`s ends with `.limitExceeded`
/// after a bounded number of steps instead of backtracking for hours. Patterns are compiled with
/// UTF mode forbidden (a `(*UTF)` in the pattern is a compile error): lines are bytes, and invalid
/// UTF-8 is matched as bytes rather than refused.
///
/// Not thread-safe: one instance belongs to one driver on the engine's thread.
final class LineRegex {
    enum Outcome {
        case matched
        case noMatch
        /// The match limit (or the JIT stack) ran out: the pattern backtracks too much on this line.
        case limitExceeded
        case failed(Int32)
    }

    /// Why a pattern cannot be used: it does not compile, or PCRE2 is not installed.
    enum CompileError: Error, CustomStringConvertible {
        /// PCRE2's message and the offset in the pattern it points at.
        case invalid(message: String, offset: Int)
        case unavailable(PCRE2Library.Unavailable)

        var description: String {
            switch self {
            case .invalid(let message, let offset): "\(message) at offset \(offset) of the pattern"
            case .unavailable(let why): why.description
            }
        }
    }

    private let pcre: PCRE2Library
    private let code: OpaquePointer
    private let matchData: OpaquePointer
    private let matchContext: OpaquePointer
    private let jitStack: OpaquePointer?
    /// Capture group number for each name in the pattern.
    let groups: [String: Int]
    let usesJIT: Bool

    init(_ pattern: String, matchLimit: UInt32) throws(CompileError) {
        let pcre: PCRE2Library
        switch PCRE2Library.shared {
        case .success(let library): pcre = library
        case .failure(let why): throw .unavailable(why)
        }
        self.pcre = pcre
        var errorCode: Int32 = 0
        var errorOffset: Int = 0
        let compiled: OpaquePointer? = pattern.withCString { p in
            p.withMemoryRebound(to: UInt8.self, capacity: pattern.utf8.count) { bytes in
                pcre.compile(bytes, pattern.utf8.count, PCRE2Library.neverUTF, &errorCode, &errorOffset, nil)
            }
        }
        guard let compiled else {
            var buffer = [UInt8](repeating: 0, count: 256)
            let n = pcre.errorMessage(errorCode, &buffer, buffer.count)
            throw .invalid(message: String(decoding: buffer.prefix(max(0, Int(n))), as: UTF8.self), offset: errorOffset)
        }
        code = compiled
        usesJIT = pcre.jitCompile(compiled, PCRE2Library.jitComplete) == 0
        guard let data = pcre.matchDataFromPattern(compiled, nil), let context = pcre.matchContextCreate(nil) else {
            fatalError("PCRE2 could not allocate match data (out of memory)")
        }
        matchData = data
        matchContext = context
        _ = pcre.setMatchLimit(context, matchLimit)
        _ = pcre.setDepthLimit(context, min(matchLimit, 100_000))
        if usesJIT {
            jitStack = pcre.jitStackCreate(32 << 10, 1 << 20, nil)
            pcre.jitStackAssign(context, nil, UnsafeMutableRawPointer(jitStack))
        } else {
            jitStack = nil
        }
        groups = Self.namedGroups(compiled, pcre)
    }

    deinit {
        pcre.matchDataFree(matchData)
        pcre.matchContextFree(matchContext)
        if let jitStack { pcre.jitStackFree(jitStack) }
        pcre.codeFree(code)
    }

    /// Matches `line`; after `.matched`, `capture(_:in:)` gives the groups.
    @inline(__always)
    func match(_ line: ByteLine) -> Outcome {
        let rc = pcre.match(code, line.base, line.count, 0, 0, matchData, matchContext)
        if rc > 0 { return .matched }
        switch rc {
        case PCRE2Library.errorNoMatch: return .noMatch
        case PCRE2Library.errorMatchLimit, PCRE2Library.errorDepthLimit, PCRE2Library.errorHeapLimit, PCRE2Library.errorJITStackLimit: return .limitExceeded
        default: return .failed(rc)
        }
    }

    /// The bytes group `group` matched in the last successful `match(line)`, or nil when the group
    /// did not take part in the match.
    @inline(__always)
    func capture(_ group: Int, in line: ByteLine) -> ByteLine? {
        let ovector = pcre.ovectorPointer(matchData)!
        let start = ovector[2 * group], end = ovector[2 * group + 1]
        guard start != PCRE2Library.unset, end >= start, end <= line.count else { return nil }
        return line.slice(start..<end)
    }

    private static func namedGroups(_ code: OpaquePointer, _ pcre: PCRE2Library) -> [String: Int] {
        var count: UInt32 = 0, entrySize: UInt32 = 0
        var table: UnsafePointer<UInt8>?
        guard pcre.patternInfo(code, PCRE2Library.infoNameCount, &count) == 0, count > 0,
              pcre.patternInfo(code, PCRE2Library.infoNameEntrySize, &entrySize) == 0,
              pcre.patternInfo(code, PCRE2Library.infoNameTable, &table) == 0, let table else { return [:] }
        var result: [String: Int] = [:]
        for i in 0..<Int(count) {
            let entry = table + i * Int(entrySize)
            let group = Int(entry[0]) << 8 | Int(entry[1])
            let name = String(cString: entry + 2)
            result[name] = group
        }
        return result
    }
}
