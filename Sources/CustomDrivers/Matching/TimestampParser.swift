import Foundation
import TailWatchEngine

/// Reads a captured timestamp in one of the `TimestampFormat`s into Unix seconds.
///
/// Works on the capture's bytes; a malformed stamp is nil (the line is rejected), never a guess.
struct TimestampParser {
    private var syslog: SyslogTimestamp
    private var civil: CivilTime
    /// `SyslogTimestamp` reads a stamp at the start of a line, followed by a space: captures are
    /// copied here with that space added.
    private var scratch = [UInt8](repeating: 0, count: 64)

    init(zone: TimeZone) {
        syslog = SyslogTimestamp(zone: zone)
        civil = CivilTime(zone: zone)
    }

    mutating func parse(_ bytes: ByteLine, as format: TimestampFormat) -> Int64? {
        switch format {
        case .syslog: return parseSyslog(bytes)
        case .iso8601: return parseISO(bytes)
        case .clf: return parseCLF(bytes)
        case .epoch: return parseEpoch(bytes)
        }
    }

    private mutating func parseSyslog(_ bytes: ByteLine) -> Int64? {
        guard bytes.count < scratch.count else { return nil }
        let n = bytes.count
        return scratch.withUnsafeMutableBufferPointer { buffer -> Int64? in
            buffer.baseAddress!.update(from: bytes.base, count: n)
            buffer[n] = 0x20
            let line = ByteLine(base: UnsafePointer(buffer.baseAddress!), count: n + 1)
            guard let (time, end) = syslog.parse(line), end == n + 1 else { return nil }
            return time
        }
    }

    /// `YYYY-MM-DD[T ]HH:MM:SS[.fff][Z|±HH:MM|±HHMM]`.
    private mutating func parseISO(_ b: ByteLine) -> Int64? {
        guard b.count >= 19 else { return nil }
        let separator = b[10]
        guard separator == 0x54 || separator == 0x20,
              let s = CivilTime.parseDateTime(b, at: 0, separator: separator),
              s.day <= CivilTime.daysIn(month: s.month, year: s.year) else { return nil }
        var i = 19
        if i < b.count, b[i] == 0x2E || b[i] == 0x2C {
            i += 1
            while i < b.count, b[i] &- 0x30 < 10 { i += 1 }
        }
        var offset: Int?
        if i < b.count {
            if b[i] == 0x5A {
                offset = 0
                i += 1
            } else if let (o, end) = Self.offset(b, at: i) {
                offset = o
                i = end
            } else {
                return nil
            }
        }
        guard i == b.count else { return nil }
        return civil.seconds(year: s.year, month: s.month, day: s.day, hour: s.hour, minute: s.minute, second: s.second, offset: offset)
    }

    /// `[30/Nov/2026:06:27:03 +0000]`, brackets optional.
    private mutating func parseCLF(_ whole: ByteLine) -> Int64? {
        var b = whole
        if b.count >= 2, b[0] == 0x5B, b[b.count - 1] == 0x5D { b = b.slice(1..<(b.count - 1)) }
        guard b.count >= 26, b[2] == 0x2F, b[6] == 0x2F, b[11] == 0x3A, b[14] == 0x3A, b[17] == 0x3A, b[20] == 0x20,
              let day = SyslogTimestamp.twoDigits(b, 0), let month = SyslogTimestamp.month(b, at: 3),
              let y1 = SyslogTimestamp.twoDigits(b, 7), let y2 = SyslogTimestamp.twoDigits(b, 9),
              let h = SyslogTimestamp.twoDigits(b, 12), let m = SyslogTimestamp.twoDigits(b, 15), let s = SyslogTimestamp.twoDigits(b, 18),
              h < 24, m < 60, s < 61, day >= 1, day <= CivilTime.daysIn(month: month, year: y1 * 100 + y2),
              let (offset, end) = Self.offset(b, at: 21), end == b.count
        else { return nil }
        return civil.seconds(year: y1 * 100 + y2, month: month, day: day, hour: h, minute: m, second: s, offset: offset)
    }

    private func parseEpoch(_ b: ByteLine) -> Int64? {
        let dot = b.firstIndex(of: 0x2E) ?? b.count
        guard let seconds = b.slice(0..<dot).decimalValue else { return nil }
        if dot < b.count {
            guard dot + 1 < b.count else { return nil }
            for i in (dot + 1)..<b.count where b[i] &- 0x30 >= 10 { return nil }
        }
        return seconds
    }

    /// `±HH:MM` or `±HHMM` at `i`: (seconds east of UTC, index after it).
    private static func offset(_ b: ByteLine, at i: Int) -> (Int, Int)? {
        guard i < b.count, b[i] == 0x2B || b[i] == 0x2D, i + 5 <= b.count, let h = SyslogTimestamp.twoDigits(b, i + 1), h < 24 else { return nil }
        let sign = b[i] == 0x2D ? -1 : 1
        if b[i + 3] == 0x3A, i + 6 <= b.count, let m = SyslogTimestamp.twoDigits(b, i + 4), m < 60 {
            return (sign * (h * 3600 + m * 60), i + 6)
        }
        if let m = SyslogTimestamp.twoDigits(b, i + 3), m < 60 { return (sign * (h * 3600 + m * 60), i + 5) }
        return nil
    }
}
