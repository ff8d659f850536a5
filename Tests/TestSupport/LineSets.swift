/// Numbered test lines: `prefix-000001 payload`, easy to generate and to check for loss or doubles.
public enum LineSets {
    public static func lines(_ prefix: String, _ range: Range<Int>, padding: Int = 0) -> [String] {
        range.map { i in
            let n = String(i)
            return "\(prefix)-\(String(repeating: "0", count: max(0, 6 - n.count)))\(n)" + (padding > 0 ? " " + String(repeating: "x", count: padding) : "")
        }
    }

    public static func text(_ lines: [String]) -> String {
        lines.map { $0 + "\n" }.joined()
    }
}
