import Foundation
import TailWatchEngine

/// One FTP transfer from an xferlog (wu-ftpd, pure-ftpd and proftpd write the same format):
/// `Mon Nov 30 10:00:00 2026 1 203.0.113.9 4096 /path/file b _ o r bob ftp 0 * c`.
public struct FTPTransfer {
    public var time: Int64
    public var bytes: Int64
    /// The local user (`bob`, or `ftpuser@domain` for cPanel's virtual FTP accounts), borrowed.
    public var user: ByteLine
}

/// Reads xferlog lines. The file name may hold spaces, so the fields are taken from both ends:
/// date, transfer time, host and size from the left; the nine fixed fields from the right, of which
/// the fifth from the end is the user.
public struct XferlogParser {
    private var clock: CivilTime

    public init(zone: TimeZone) {
        clock = CivilTime(zone: zone)
    }

    public mutating func parse(_ line: ByteLine) -> FTPTransfer? {
        // "Mon Nov 30 10:00:00 2026 " — 25 bytes, the day possibly space-padded.
        guard line.count > 25, line[3] == 0x20, line[7] == 0x20, line[10] == 0x20, line[13] == 0x3A, line[16] == 0x3A,
              line[19] == 0x20, line[24] == 0x20,
              let month = SyslogTimestamp.month(line, at: 4),
              let h = SyslogTimestamp.twoDigits(line, 11), let m = SyslogTimestamp.twoDigits(line, 14),
              let s = SyslogTimestamp.twoDigits(line, 17),
              let year = line.slice(20..<24).decimalValue
        else { return nil }
        let d0 = line[8] == 0x20 ? 0 : Int(line[8] &- 0x30)
        let d1 = Int(line[9] &- 0x30)
        guard d0 < 4, d1 < 10, d0 * 10 + d1 >= 1, h < 24, m < 60, s < 61 else { return nil }
        // Left: transfer-time host size
        var fields: [Range<Int>] = []
        var i = 25
        while fields.count < 3, i < line.count {
            while i < line.count, line[i] == 0x20 { i += 1 }
            let start = i
            while i < line.count, line[i] != 0x20 { i += 1 }
            if i > start { fields.append(start..<i) }
        }
        guard fields.count == 3, let size = line.slice(fields[2]).decimalValue, fields[2].count <= 15 else { return nil }
        // Right: transfer-type action direction access-mode user service auth-method auth-id status
        var right: [Range<Int>] = []
        var j = line.count
        while right.count < 9, j > i {
            while j > i, line[j - 1] == 0x20 { j -= 1 }
            let end = j
            while j > i, line[j - 1] != 0x20 { j -= 1 }
            if end > j { right.append(j..<end) }
        }
        guard right.count == 9, j > i else { return nil }   // a file name must remain between them
        let user = line.slice(right[4])
        let time = clock.seconds(year: Int(year), month: month, day: d0 * 10 + d1, hour: h, minute: m, second: s)
        return FTPTransfer(time: time, bytes: size, user: user)
    }
}
