import Foundation
import Logging

/// Turns a stream of rejected lines into at most one warning per driver and reason a minute, with
/// a count of those held back and a printable sample of the line.
///
/// Why: a log full of garbage must not become a daemon log full of garbage, but an operator must
/// still see that something is wrong, where (file and byte offset) and what it looks like.
final class RateLimitedWarnings {
    private struct State {
        var lastLogged: Double
        var heldBack: Int
    }
    private var states: [String: State] = [:]
    private let interval: Double

    init(interval: Double = 60) {
        self.interval = interval
    }

    func rejected(_ reason: RejectReason, path: String, offset: Int64, line: ByteLine?, logger: Logger) {
        let key = reason.description
        let now = Date().timeIntervalSince1970
        if var state = states[key], now - state.lastLogged < interval {
            state.heldBack += 1
            states[key] = state
            return
        }
        let held = states[key]?.heldBack ?? 0
        var message = "rejected line at \(path):\(offset) (\(reason))"
        if let line { message += ": \(Self.printable(line))" }
        if held > 0 { message += " [\(held) more rejected for this reason in the last \(Int(interval)) s]" }
        logger.warning("\(message)")
        states[key] = State(lastLogged: now, heldBack: 0)
    }

    /// At most 160 bytes of the line, with control bytes, quotes and non-UTF-8 shown as `\xNN`.
    static func printable(_ line: ByteLine, limit: Int = 160) -> String {
        var out = ""
        let n = min(line.count, limit)
        let slice = line.slice(0..<n)
        let valid = slice.isValidUTF8
        for i in 0..<n {
            let b = line[i]
            if b >= 0x20 && b < 0x7F && b != 0x5C {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else if b >= 0x80 && valid {
                continue
            } else {
                out += "\\x" + String(b, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        if valid && slice.count > 0 && out.count < n {
            // Keep valid multi-byte text readable.
            out = slice.string.unicodeScalars.map { s -> String in
                s.value < 0x20 || s.value == 0x7F ? "\\x" + String(s.value, radix: 16, uppercase: true).leftPadded(to: 2) : String(s)
            }.joined()
        }
        if line.count > limit { out += "…" }
        return out
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
