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

    /// The last timestamp's bytes without its seconds (`dd/Mon/yyyy:HH:MM` and ` ±zzzz`), and the
    /// Unix time of that minute: consecutive lines share it, so a line usually costs a comparison
    /// of three words instead of a calendar computation.
    private var minuteKey: (UInt64, UInt64, UInt64) = (0, 0, 0)
    private var minuteStart: Int64 = 0
    private var haveMinute = false

    public init() {}

    public mutating func parse(_ line: ByteLine, from start: Int = 0) -> Outcome {
        // Candidates for the timestamp: a "[" that starts the fourth or a later word and closes 27
        // bytes on. The first that is followed by a quoted request, a status and a size wins; an
        // authenticated user name (client-controlled, with its quotes escaped by Apache) that
        // imitates a timestamp fails that test and the search goes on.
        var from = start
        var firstFailure = RejectReason.noAccessTimestamp
        while let open = line.firstIndex(of: 0x5B, from: from) {
            from = open + 1
            guard open > start, line[open - 1] == 0x20, open + 28 <= line.count, line[open + 27] == 0x5D,
                  Self.threeWords(line, from: start, before: open) else { continue }
            switch parse(line, timestampAt: open) {
            case .request(let record): return .request(record)
            case .rejected(let reason):
                if firstFailure == .noAccessTimestamp { firstFailure = reason }
            }
        }
        return .rejected(firstFailure)
    }

    /// Whether at least three words (client, ident, user) lie between `start` and `end`; counted
    /// backwards from `end`, so that a long client field (an X-Forwarded-For list) is not walked.
    @inline(__always) private static func threeWords(_ line: ByteLine, from start: Int, before end: Int) -> Bool {
        var words = 0
        var inWord = false
        var i = end - 1
        while i >= start {
            if line[i] == 0x20 {
                inWord = false
            } else if !inWord {
                words += 1
                if words == 3 { return true }
                inWord = true
            }
            i -= 1
        }
        return false
    }

    /// The rest of the line after a timestamp candidate at `open`.
    @inline(__always) private mutating func parse(_ line: ByteLine, timestampAt open: Int) -> Outcome {
        guard let time = cachedTime(line, at: open + 1) else { return .rejected(.noAccessTimestamp) }
        // ` "request" status bytes`
        var k = open + 28
        guard k + 2 <= line.count, line[k] == 0x20, line[k + 1] == 0x22 else { return .rejected(.noRequest) }
        k += 2
        // The closing quote: the first one not escaped by an odd run of backslashes.
        let requestStart = k
        while true {
            guard let quote = line.firstIndex(of: 0x22, from: k) else { return .rejected(.noRequest) }
            var run = quote
            while run > requestStart && line[run - 1] == 0x5C { run -= 1 }
            k = quote
            if (quote - run) & 1 == 0 { break }
            k += 1
        }
        guard k + 1 < line.count, line[k + 1] == 0x20 else { return .rejected(.noRequest) }
        k += 2
        let status: Int
        var statusEnd: Int
        if k + 3 <= line.count, let a = Self.digit(line[k]), let b = Self.digit(line[k + 1]), let c = Self.digit(line[k + 2]),
           k + 3 == line.count || line[k + 3] == 0x20 {
            status = a * 100 + b * 10 + c
            statusEnd = k + 3
        } else {
            statusEnd = line.firstIndex(of: 0x20, from: k) ?? line.count
            guard statusEnd == k + 1, line[k] == 0x2D else { return .rejected(.badStatus) }
            status = 0
        }
        guard statusEnd < line.count else { return .rejected(.noBytes) }
        // Bytes: up to 15 digits, or "-", up to a space or the end of the line.
        statusEnd += 1
        var bytes: Int64 = 0
        var j = statusEnd
        while j < line.count, let d = Self.digit(line[j]) {
            bytes = bytes &* 10 &+ Int64(d)
            j += 1
        }
        let digits = j - statusEnd
        if digits == 0 {
            guard j < line.count, line[j] == 0x2D else { return .rejected(.noBytes) }
            j += 1
        } else if digits > 15 {
            return .rejected(.noBytes)
        }
        guard j == line.count || line[j] == 0x20 else { return .rejected(.noBytes) }
        return .request(AccessLogRecord(time: time, status: status, bytes: bytes))
    }

    @inline(__always) private static func digit(_ b: UInt8) -> Int? {
        let v = b &- 0x30
        return v < 10 ? Int(v) : nil
    }

    /// `time(_:at:)` through the one-minute cache.
    @inline(__always) private mutating func cachedTime(_ line: ByteLine, at i: Int) -> Int64? {
        // 26 bytes from `i` are inside the line (the caller saw the "]" after them).
        let raw = UnsafeRawPointer(line.base + i)
        // Byte k of a word is bits 8k to 8k+7 (read as little-endian on any machine).
        let key = (
            UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self)),
            UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
            // Bytes 16-23 without 18 and 19 (the seconds), and 24-25 in their place.
            UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)) & 0xFFFF_FFFF_0000_FFFF
                ^ UInt64(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 24, as: UInt16.self))) << 16
        )
        if haveMinute, key == minuteKey, let s0 = Self.digit(line[i + 18]), let s1 = Self.digit(line[i + 19]) {
            let second = s0 * 10 + s1
            if second < 61 { return minuteStart + Int64(second) }
        }
        guard let time = Self.time(line, at: i) else { return nil }
        minuteKey = key
        haveMinute = true
        minuteStart = time - Int64((Int(line[i + 18]) - 0x30) * 10 + Int(line[i + 19]) - 0x30)
        return time
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
