import Foundation

/// The `limits` file: `user: bytes-per-month` per line, the number optionally with a binary
/// suffix (`500M`, `10G`, `1T` = ×1024³ etc.); `0` or no line means no limit; `#` starts a comment.
///
/// Why lenient: cPanel tools write this file; a bad line must not stop accounting. Each bad line
/// is reported (file and line) and skipped.
public struct BandwidthLimits: Sendable, Equatable {
    public private(set) var bytes: [String: Int64] = [:]
    public private(set) var problems: [String] = []

    public init() {}

    public static func load(path: String) -> BandwidthLimits {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            var limits = BandwidthLimits()
            if FileManager.default.fileExists(atPath: path) { limits.problems.append("\(path): cannot be read as text") }
            return limits
        }
        return BandwidthLimits(text: text, file: path)
    }

    public init(text: String, file: String = "limits") {
        for (index, raw) in text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
            if line.isEmpty { continue }
            guard let colon = line.firstIndex(of: ":") else {
                problems.append("\(file):\(index + 1): expected 'user: bytes'")
                continue
            }
            let user = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard !user.isEmpty, let amount = Self.size(value) else {
                problems.append("\(file):\(index + 1): cannot read '\(value)' as a size (e.g. 10737418240, 500M, 10G)")
                continue
            }
            if amount > 0 { bytes[user] = amount } else { bytes[user] = nil }
        }
    }

    /// `123`, `500K`, `500M`, `10G`, `2T` (also with a trailing `B`/`iB`), binary multiples.
    static func size(_ text: String) -> Int64? {
        var t = text.uppercased()
        for suffix in ["IB", "B"] where t.hasSuffix(suffix) && t.count > suffix.count {
            t.removeLast(suffix.count)
            break
        }
        var multiplier: Int64 = 1
        if let last = t.last, let power = ["K": 1, "M": 2, "G": 3, "T": 4, "P": 5][String(last)] {
            multiplier = Int64(1) << (10 * power)
            t.removeLast()
        }
        guard let number = Double(t.trimmingCharacters(in: .whitespaces)), number >= 0, number * Double(multiplier) < 9e18 else { return nil }
        return Int64(number * Double(multiplier))
    }
}
