import CPCRE2
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

    /// Compiling failed: PCRE2's message and the offset in the pattern it points at.
    struct CompileError: Error, CustomStringConvertible {
        let message: String
        let offset: Int
        var description: String { "\(message) at offset \(offset) of the pattern" }
    }

    private let code: OpaquePointer
    private let matchData: OpaquePointer
    private let matchContext: OpaquePointer
    private let jitStack: OpaquePointer?
    /// Capture group number for each name in the pattern.
    let groups: [String: Int]
    let usesJIT: Bool

    init(_ pattern: String, matchLimit: UInt32) throws(CompileError) {
        var errorCode: Int32 = 0
        var errorOffset: Int = 0
        let compiled: OpaquePointer? = pattern.withCString { p in
            p.withMemoryRebound(to: UInt8.self, capacity: pattern.utf8.count) { bytes in
                pcre2_compile_8(bytes, pattern.utf8.count, PCRE2_NEVER_UTF, &errorCode, &errorOffset, nil)
            }
        }
        guard let compiled else {
            var buffer = [UInt8](repeating: 0, count: 256)
            let n = pcre2_get_error_message_8(errorCode, &buffer, buffer.count)
            throw CompileError(message: String(decoding: buffer.prefix(max(0, Int(n))), as: UTF8.self), offset: errorOffset)
        }
        code = compiled
        usesJIT = pcre2_jit_compile_8(compiled, PCRE2_JIT_COMPLETE) == 0
        matchData = pcre2_match_data_create_from_pattern_8(compiled, nil)
        matchContext = pcre2_match_context_create_8(nil)
        pcre2_set_match_limit_8(matchContext, matchLimit)
        pcre2_set_depth_limit_8(matchContext, min(matchLimit, 100_000))
        if usesJIT {
            jitStack = pcre2_jit_stack_create_8(32 << 10, 1 << 20, nil)
            pcre2_jit_stack_assign_8(matchContext, nil, UnsafeMutableRawPointer(jitStack))
        } else {
            jitStack = nil
        }
        groups = Self.namedGroups(compiled)
    }

    deinit {
        pcre2_match_data_free_8(matchData)
        pcre2_match_context_free_8(matchContext)
        if let jitStack { pcre2_jit_stack_free_8(jitStack) }
        pcre2_code_free_8(code)
    }

    /// Matches `line`; after `.matched`, `capture(_:in:)` gives the groups.
    @inline(__always)
    func match(_ line: ByteLine) -> Outcome {
        let rc = pcre2_match_8(code, line.base, line.count, 0, 0, matchData, matchContext)
        if rc > 0 { return .matched }
        switch rc {
        case PCRE2_ERROR_NOMATCH: return .noMatch
        case PCRE2_ERROR_MATCHLIMIT, PCRE2_ERROR_DEPTHLIMIT, PCRE2_ERROR_HEAPLIMIT, PCRE2_ERROR_JIT_STACKLIMIT: return .limitExceeded
        default: return .failed(rc)
        }
    }

    /// The bytes group `group` matched in the last successful `match(line)`, or nil when the group
    /// did not take part in the match.
    @inline(__always)
    func capture(_ group: Int, in line: ByteLine) -> ByteLine? {
        let ovector = pcre2_get_ovector_pointer_8(matchData)!
        let start = ovector[2 * group], end = ovector[2 * group + 1]
        guard start != tailwatch_pcre2_unset(), end >= start, end <= line.count else { return nil }
        return line.slice(start..<end)
    }

    private static func namedGroups(_ code: OpaquePointer) -> [String: Int] {
        var count: UInt32 = 0, entrySize: UInt32 = 0
        var table: UnsafePointer<UInt8>?
        guard pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMECOUNT), &count) == 0, count > 0,
              pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMEENTRYSIZE), &entrySize) == 0,
              pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMETABLE), &table) == 0, let table else { return [:] }
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
