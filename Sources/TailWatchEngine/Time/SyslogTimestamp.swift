import Foundation

/// Reads the timestamp at the start of a syslog line: the classic `Mmm dd HH:MM:SS` (no year, in
/// the configured zone) or RFC 3339 (`2026-11-30T10:00:00.123+01:00`, rsyslog's high precision).
///
/// Classic stamps carry no year: the year chosen is the one that puts the line closest before now
/// (a December line read on the 1st of January belongs to last year); `futureTolerance` seconds
/// ahead of now are tolerated for clocks that disagree (a day by default; the relay driver, for
/// which a year-old line must never look new, allows minutes). Dates that do not exist (30
/// February, the 31st of a 30-day month, day 0 or 32+) are no timestamp.
public struct SyslogTimestamp {
    private var clock: CivilTime
    private let now: () -> Date
    private let futureTolerance: Int64

    public init(zone: TimeZone, futureTolerance: Int64 = 86400, now: @escaping () -> Date = Date.init) {
        clock = CivilTime(zone: zone)
        self.now = now
        self.futureTolerance = futureTolerance
    }

    /// (Unix seconds, index just past the stamp and its space), or nil.
    public mutating func parse(_ line: ByteLine) -> (time: Int64, end: Int)? {
        if line.count >= 16, let month = Self.month(line, at: 0), line[3] == 0x20 {
            // "Apr  1 10:00:02 " or "Apr 11 10:00:02 "
            let d0 = line[4] == 0x20 ? 0 : Int(line[4] &- 0x30)
            let d1 = Int(line[5] &- 0x30)
            guard d0 < 4, d1 < 10, line[6] == 0x20, line[9] == 0x3A, line[12] == 0x3A, line[15] == 0x20,
                  let h = Self.twoDigits(line, 7), let m = Self.twoDigits(line, 10), let s = Self.twoDigits(line, 13),
                  h < 24, m < 60, s < 61 else { return nil }
            let day = d0 * 10 + d1
            guard day >= 1, day <= 31 else { return nil }
            // The latest of the years around now (the local new year may come before UTC's) in
            // which the date exists and that is not more than the tolerance ahead of now.
            let current = Int64(now().timeIntervalSince1970)
            let year = CivilTime.civil(fromUTC: current).year
            var best: Int64? = nil
            for y in (year - 4)...(year + 1) where day <= CivilTime.daysIn(month: month, year: y) {
                let t = clock.seconds(year: y, month: month, day: day, hour: h, minute: m, second: s)
                if t <= current + futureTolerance { best = max(best ?? t, t) }
            }
            guard let t = best else { return nil }
            return (t, 16)
        }
        // RFC 3339: 2026-11-30T10:00:00[.ffffff](Z|±hh:mm)
        guard line.count >= 20, line[10] == 0x54 else { return nil }
        guard let stamp = CivilTime.parseDateTime(line, at: 0, separator: 0x54),
              stamp.day <= CivilTime.daysIn(month: stamp.month, year: stamp.year) else { return nil }
        var i = 19
        if i < line.count, line[i] == 0x2E {
            i += 1
            while i < line.count, line[i] &- 0x30 < 10 { i += 1 }
        }
        var offset = 0
        guard i < line.count else { return nil }
        if line[i] == 0x5A {
            i += 1
        } else if line[i] == 0x2B || line[i] == 0x2D, i + 6 <= line.count, line[i + 3] == 0x3A,
                  let oh = Self.twoDigits(line, i + 1), let om = Self.twoDigits(line, i + 4), oh < 24, om < 60 {
            offset = (oh * 60 + om) * 60 * (line[i] == 0x2D ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i < line.count, line[i] == 0x20 else { return nil }
        let t = clock.seconds(year: stamp.year, month: stamp.month, day: stamp.day, hour: stamp.hour, minute: stamp.minute, second: stamp.second, offset: offset)
        return (t, i + 1)
    }

    public static func twoDigits(_ line: ByteLine, _ i: Int) -> Int? {
        let a = line[i] &- 0x30, b = line[i + 1] &- 0x30
        return a < 10 && b < 10 ? Int(a) * 10 + Int(b) : nil
    }

    private static let months: [StaticString] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    public static func month(_ line: ByteLine, at i: Int) -> Int? {
        for (index, name) in months.enumerated() where line.matches(name, at: i) { return index + 1 }
        return nil
    }
}
