import Foundation

/// Converts a log's wall-clock date and time to Unix seconds, fast, in the zone the log was written in.
///
/// Why not `DateFormatter`: it costs microseconds per call and allocates; a log line's timestamp is
/// parsed on the hot path. The arithmetic is the days-from-civil algorithm; the zone's offset is
/// asked of Foundation once per local hour and cached (DST changes happen on hour boundaries).
public struct CivilTime {
    private let zone: TimeZone
    private let isUTC: Bool
    private var cachedHour: Int64 = .min
    private var cachedOffset: Int64 = 0

    public init(zone: TimeZone) {
        self.zone = zone
        self.isUTC = zone.secondsFromGMT() == 0 && (zone.identifier == "UTC" || zone.identifier == "GMT" || zone.identifier == "Etc/UTC")
    }

    /// Seconds since 1970 for a proleptic Gregorian date and time given as UTC.
    @inlinable public static func utcSeconds(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return days * 86400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// Seconds since 1970 for a wall-clock time in this zone (or with an explicit offset in seconds).
    public mutating func seconds(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, offset: Int? = nil) -> Int64 {
        let local = Self.utcSeconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        if let offset { return local - Int64(offset) }
        if isUTC { return local }
        let hourKey = local / 3600
        if hourKey != cachedHour {
            let guess = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(local))))
            let actual = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(local - guess))))
            cachedOffset = actual
            cachedHour = hourKey
        }
        return local - cachedOffset
    }

    /// Reads `YYYY-MM-DD HH:MM:SS` at `at` in `line` (`separator` between date and time: a space,
    /// or `T` in RFC 3339); returns the parts, or nil when the shape is off.
    @inlinable public static func parseDateTime(_ line: ByteLine, at i: Int, separator: UInt8 = 0x20) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int)? {
        guard i + 19 <= line.count else { return nil }
        @inline(__always) func d(_ k: Int) -> Int? {
            let v = line[i + k] &- 0x30
            return v < 10 ? Int(v) : nil
        }
        guard line[i + 4] == 0x2D, line[i + 7] == 0x2D, line[i + 10] == separator, line[i + 13] == 0x3A, line[i + 16] == 0x3A,
              let y0 = d(0), let y1 = d(1), let y2 = d(2), let y3 = d(3), let mo0 = d(5), let mo1 = d(6),
              let d0 = d(8), let d1 = d(9), let h0 = d(11), let h1 = d(12), let mi0 = d(14), let mi1 = d(15),
              let s0 = d(17), let s1 = d(18)
        else { return nil }
        let month = mo0 * 10 + mo1, day = d0 * 10 + d1, hour = h0 * 10 + h1, minute = mi0 * 10 + mi1, second = s0 * 10 + s1
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        return (y0 * 1000 + y1 * 100 + y2 * 10 + y3, month, day, hour, minute, second)
    }

    /// Days in `month` (1–12) of the proleptic Gregorian `year`.
    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// The UTC calendar date of `seconds` since 1970 (the inverse of `utcSeconds`).
    public static func civil(fromUTC seconds: Int64) -> (year: Int, month: Int, day: Int) {
        let days = (seconds >= 0 ? seconds : seconds - 86399) / 86400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = Int(doy - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        let year = Int(yoe + era * 400) + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    /// Unix seconds at the start of the UTC month holding `seconds`.
    public static func monthStart(ofUTC seconds: Int64) -> Int64 {
        let date = civil(fromUTC: seconds)
        return utcSeconds(year: date.year, month: date.month, day: 1, hour: 0, minute: 0, second: 0)
    }
}
