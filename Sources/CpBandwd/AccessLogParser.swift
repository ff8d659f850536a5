import TailWatchEngine

/// One request from a web access log: when, and how many response bytes.
public struct AccessLogRecord: Equatable {
    /// Unix seconds (UTC), from the line's own zone offset.
    public var time: Int64
    public var status: Int
    /// The response size field (`%b`/`%O`); `-` is 0.
    public var bytes: Int64

    public init(time: Int64, status: Int, bytes: Int64) {
        self.time = time
        self.status = status
        self.bytes = bytes
    }
}

/// Reads common and combined access-log lines, with or without a leading vhost (`%v:%p` or `%v`),
/// with IPv4, IPv6, hostnames or X-Forwarded-For lists as the client, straight from the bytes.
///
/// The request, referer and user agent are client-controlled. The parser locates the timestamp
/// `[dd/Mon/yyyy:HH:MM:SS ±zzzz]` after at least three words (client, ident, user), steps over the
/// quoted request honouring `\"` escapes, and reads status and bytes right after it; nothing
/// after that (referer, user agent) is looked at, so `Mozilla \" 200 999999999 \"` stays text.
public struct AccessLogParser {
    public enum Outcome: Equatable {
        case request(AccessLogRecord)
        case rejected(RejectReason)
    }

    public init() {}

    public func parse(_ line: ByteLine, from start: Int = 0) -> Outcome {
        // Candidates for the timestamp: a "[" that starts the fourth or a later word and closes 27
        // bytes on. The first that is followed by a quoted request, a status and a size wins; an
        // authenticated user name (client-controlled, with its quotes escaped by Apache) that
        // imitates a timestamp fails that test and the search goes on.
        var words = 0
        var inWord = false
        var i = start
        var firstFailure = RejectReason.noAccessTimestamp
        while i < line.count {
            let b = line[i]
            if b == 0x20 {
                inWord = false
            } else {
                if !inWord { words += 1; inWord = true }
                if b == 0x5B, words >= 4, line[i - 1] == 0x20, i + 28 <= line.count, line[i + 27] == 0x5D {
                    switch parse(line, timestampAt: i) {
                    case .request(let record): return .request(record)
                    case .rejected(let reason):
                        if firstFailure == .noAccessTimestamp { firstFailure = reason }
                    }
                }
            }
            i += 1
        }
        return .rejected(firstFailure)
    }

    /// The rest of the line after a timestamp candidate at `open`.
    private func parse(_ line: ByteLine, timestampAt open: Int) -> Outcome {
        guard let time = Self.time(line, at: open + 1) else { return .rejected(.noAccessTimestamp) }
        // ` "request" status bytes`
        var k = open + 28
        guard k + 2 <= line.count, line[k] == 0x20, line[k + 1] == 0x22 else { return .rejected(.noRequest) }
        k += 2
        while k < line.count {
            let b = line[k]
            if b == 0x5C { k += 2; continue }
            if b == 0x22 { break }
            k += 1
        }
        guard k + 1 < line.count, line[k + 1] == 0x20 else { return .rejected(.noRequest) }
        k += 2
        let statusEnd = line.firstIndex(of: 0x20, from: k) ?? line.count
        let statusField = line.slice(k..<statusEnd)
        let status: Int
        if statusField.count == 1, statusField[0] == 0x2D {
            status = 0
        } else if statusField.count == 3, let n = statusField.decimalValue {
            status = Int(n)
        } else {
            return .rejected(.badStatus)
        }
        guard statusEnd < line.count else { return .rejected(.noBytes) }
        let bytesStart = statusEnd + 1
        let bytesEnd = line.firstIndex(of: 0x20, from: bytesStart) ?? line.count
        let bytesField = line.slice(bytesStart..<bytesEnd)
        let bytes: Int64
        if bytesField.count == 1, bytesField[0] == 0x2D {
            bytes = 0
        } else if bytesField.count <= 15, let n = bytesField.decimalValue {
            bytes = n
        } else {
            return .rejected(.noBytes)
        }
        return .request(AccessLogRecord(time: time, status: status, bytes: bytes))
    }

    /// `dd/Mon/yyyy:HH:MM:SS ±zzzz` at `i` as Unix seconds.
    static func time(_ line: ByteLine, at i: Int) -> Int64? {
        @inline(__always) func d(_ k: Int) -> Int? {
            let v = line[i + k] &- 0x30
            return v < 10 ? Int(v) : nil
        }
        guard line[i + 2] == 0x2F, line[i + 6] == 0x2F, line[i + 11] == 0x3A, line[i + 14] == 0x3A, line[i + 17] == 0x3A,
              line[i + 20] == 0x20, line[i + 21] == 0x2B || line[i + 21] == 0x2D,
              let d0 = d(0), let d1 = d(1), let y0 = d(7), let y1 = d(8), let y2 = d(9), let y3 = d(10),
              let h0 = d(12), let h1 = d(13), let m0 = d(15), let m1 = d(16), let s0 = d(18), let s1 = d(19),
              let z0 = d(22), let z1 = d(23), let z2 = d(24), let z3 = d(25),
              let month = month(line, at: i + 3)
        else { return nil }
        let day = d0 * 10 + d1, hour = h0 * 10 + h1, minute = m0 * 10 + m1, second = s0 * 10 + s1
        guard (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        let offset = ((z0 * 10 + z1) * 60 + z2 * 10 + z3) * 60 * (line[i + 21] == 0x2D ? -1 : 1)
        return CivilTime.utcSeconds(year: y0 * 1000 + y1 * 100 + y2 * 10 + y3, month: month, day: day, hour: hour, minute: minute, second: second) - Int64(offset)
    }

    private static let months: [(UInt8, UInt8, UInt8)] = [
        (0x4A, 0x61, 0x6E), (0x46, 0x65, 0x62), (0x4D, 0x61, 0x72), (0x41, 0x70, 0x72), (0x4D, 0x61, 0x79), (0x4A, 0x75, 0x6E),
        (0x4A, 0x75, 0x6C), (0x41, 0x75, 0x67), (0x53, 0x65, 0x70), (0x4F, 0x63, 0x74), (0x4E, 0x6F, 0x76), (0x44, 0x65, 0x63),
    ]

    static func month(_ line: ByteLine, at i: Int) -> Int? {
        let key = (line[i], line[i + 1], line[i + 2])
        for (index, m) in months.enumerated() where m == key { return index + 1 }
        return nil
    }
}

extension RejectReason {
    static let noAccessTimestamp = RejectReason("no [dd/Mon/yyyy:HH:MM:SS +zzzz] timestamp after client, ident and user")
    static let noRequest = RejectReason("no quoted request after the timestamp")
    static let badStatus = RejectReason("status is not three digits or '-'")
    static let noBytes = RejectReason("bytes field is not a number or '-'")
}
