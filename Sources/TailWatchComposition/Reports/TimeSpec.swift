import Foundation

/// A `--since`/`--until` value: an ISO date or date-time, or a span back from now (`90m`, `24h`, `7d`).
struct TimeSpec {
    /// Unix seconds, or nil with a message naming what is wrong.
    static func parse(_ text: String, now: Date = Date()) -> Result<Int64, CommandFailure> {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let unit = t.last, "smhdw".contains(unit), let n = Int64(t.dropLast()), n >= 0 {
            let seconds: Int64 = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800][String(unit)]!
            let (span, overflow) = n.multipliedReportingOverflow(by: seconds)
            guard !overflow, span < 1 << 40 else { return .failure(.usage("time span '\(text)' is too long")) }
            return .success(Int64(now.timeIntervalSince1970) - span)
        }
        let dateOnly = DateFormatter()
        dateOnly.locale = Locale(identifier: "en_US_POSIX")
        dateOnly.timeZone = TimeZone(identifier: "UTC")
        dateOnly.dateFormat = "yyyy-MM-dd"
        if t.count == 10, let date = dateOnly.date(from: t) {
            return .success(Int64(date.timeIntervalSince1970))
        }
        for format in ["yyyy-MM-dd'T'HH:mm:ssXXXXX", "yyyy-MM-dd'T'HH:mmXXXXX", "yyyy-MM-dd HH:mm:ssXXXXX"] {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.dateFormat = format
            if let date = f.date(from: t) { return .success(Int64(date.timeIntervalSince1970)) }
        }
        for format in ["yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd HH:mm:ss"] {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "UTC")
            f.dateFormat = format
            if let date = f.date(from: t) { return .success(Int64(date.timeIntervalSince1970)) }
        }
        return .failure(.usage("cannot read time '\(text)': use 2026-11-01, 2026-11-01T10:00:00Z, or a span back from now like 90m, 24h, 7d"))
    }
}
