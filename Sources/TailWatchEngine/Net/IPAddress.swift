/// An IPv4 or IPv6 address read from a log line, in one canonical form.
///
/// Why our own: the same client shows up as `1.2.3.4`, `::ffff:1.2.3.4` or `::FFFF:102:304`, and
/// an IPv6 address has many spellings; a whitelist keyed by text must hold each address once, in
/// the form exim compares (`text` follows RFC 5952; IPv4-mapped IPv6 becomes plain IPv4). Parsing
/// is strict: a leading zero in an IPv4 part (octal to some parsers), a zone (`%eth0`), a stray
/// character or a missing part is no address at all.
public struct IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    public enum Family: UInt8, Sendable { case v4 = 4, v6 = 6 }

    public let family: Family
    /// The 128 bits, most significant first; an IPv4 address is in the low 32 bits of `low`.
    public let high: UInt64
    public let low: UInt64

    public init(v4 value: UInt32) {
        self.init(family: .v4, high: 0, low: UInt64(value))
    }

    private init(family: Family, high: UInt64, low: UInt64) {
        self.family = family
        self.high = high
        self.low = low
    }

    /// An IPv6 address from its 128 bits; IPv4-mapped (`::ffff:0:0/96`) becomes IPv4.
    public init(v6 high: UInt64, _ low: UInt64) {
        if high == 0, low >> 32 == 0xFFFF {
            self.init(v4: UInt32(truncatingIfNeeded: low))
        } else {
            self.init(family: .v6, high: high, low: low)
        }
    }

    public init?(_ text: String) {
        guard let parsed = withByteLine(text, { IPAddress($0) }) else { return nil }
        self = parsed
    }

    /// Parses the whole of `text`; nil unless it is exactly one address.
    public init?(_ text: ByteLine) {
        guard text.count > 0, text.count <= 45 else { return nil }
        if text.firstIndex(of: 0x3A) == nil {
            guard let v4 = Self.parseV4(text, from: 0, to: text.count) else { return nil }
            self.init(v4: v4)
        } else {
            guard let (h, l) = Self.parseV6(text) else { return nil }
            self.init(v6: h, l)
        }
    }

    // MARK: Classes of addresses

    /// 127.0.0.0/8 and ::1.
    public var isLoopback: Bool {
        family == .v4 ? (low >> 24) & 0xFF == 127 : high == 0 && low == 1
    }

    /// 0.0.0.0 and :: (a client never has them; a log holding them is wrong).
    public var isUnspecified: Bool { high == 0 && low == 0 }

    /// Whether this address lies in `network`/`prefix` (prefix in bits of this address's family).
    public func isIn(_ network: IPAddress, prefix: Int) -> Bool {
        guard family == network.family else { return false }
        let bits = family == .v4 ? 32 : 128
        guard prefix > 0 else { return true }
        guard prefix < bits else { return self == network }
        if family == .v4 {
            let mask = UInt64(0xFFFF_FFFF) << UInt64(32 - prefix) & 0xFFFF_FFFF
            return low & mask == network.low & mask
        }
        if prefix <= 64 {
            let mask = prefix == 64 ? UInt64.max : ~(UInt64.max >> UInt64(prefix))
            return high & mask == network.high & mask
        }
        let mask = ~(UInt64.max >> UInt64(prefix - 64))
        return high == network.high && low & mask == network.low & mask
    }

    // MARK: Order and text

    /// IPv4 before IPv6, then numeric.
    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        (a.family.rawValue, a.high, a.low) < (b.family.rawValue, b.high, b.low)
    }

    /// Dotted quad, or RFC 5952: lower-case hex, no leading zeros, the longest run of two or more
    /// zero groups (the first of equals) shortened to `::`.
    public var text: String {
        if family == .v4 {
            // Written digit by digit: string interpolation of four integers cost more than the
            // rest of a custom driver's line together (measured with perf).
            let v = UInt32(truncatingIfNeeded: low)
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { buffer in
                var n = 0
                for shift in [24, 16, 8, 0] as [UInt32] {
                    let octet = (v >> shift) & 0xFF
                    if n > 0 { buffer[n] = 0x2E; n += 1 }
                    if octet >= 100 { buffer[n] = UInt8(0x30 + octet / 100); n += 1 }
                    if octet >= 10 { buffer[n] = UInt8(0x30 + octet / 10 % 10); n += 1 }
                    buffer[n] = UInt8(0x30 + octet % 10)
                    n += 1
                }
                return String(decoding: UnsafeBufferPointer(rebasing: buffer[0..<n]), as: UTF8.self)
            }
        }
        let groups = (0..<8).map { i -> UInt16 in
            let word = i < 4 ? high : low
            return UInt16(truncatingIfNeeded: word >> UInt64((3 - i % 4) * 16))
        }
        var bestStart = -1, bestLength = 0, runStart = -1
        for i in 0...8 {
            if i < 8, groups[i] == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLength { bestStart = runStart; bestLength = i - runStart }
                runStart = -1
            }
        }
        if bestLength < 2 { bestStart = -1 }
        var out = ""
        var i = 0
        while i < 8 {
            if i == bestStart {
                out += "::"
                i += bestLength
                continue
            }
            if !out.isEmpty, !out.hasSuffix(":") { out += ":" }
            out += String(groups[i], radix: 16)
            i += 1
        }
        return out
    }

    public var description: String { text }

    // MARK: Parsing

    /// `a.b.c.d` in `text[from..<to]`: four decimal parts 0–255 without leading zeros.
    static func parseV4(_ text: ByteLine, from: Int, to end: Int) -> UInt32? {
        var value: UInt32 = 0
        var parts = 0
        var i = from
        while parts < 4 {
            let start = i
            var part: UInt32 = 0
            while i < end, text[i] &- 0x30 < 10, i - start < 3 {
                part = part * 10 + UInt32(text[i] &- 0x30)
                i += 1
            }
            let digits = i - start
            guard digits > 0, part <= 255, !(digits > 1 && text[start] == 0x30) else { return nil }
            value = value << 8 | part
            parts += 1
            if parts < 4 {
                guard i < end, text[i] == 0x2E else { return nil }
                i += 1
            }
        }
        return i == end ? value : nil
    }

    /// Eight hex groups, one `::` for a run of zeros, optionally ending in a dotted IPv4 address.
    static func parseV6(_ text: ByteLine) -> (UInt64, UInt64)? {
        var groups = [UInt16](repeating: 0, count: 8)
        var count = 0
        var gap = -1
        var i = 0
        let end = text.count
        if text.matches("::", at: 0) {
            gap = 0
            i = 2
            if i == end { return (0, 0) }
        } else if text[0] == 0x3A {
            return nil
        }
        while i < end {
            guard count < 8 else { return nil }
            // A dotted IPv4 tail takes the last two groups.
            var j = i
            while j < end, text[j] != 0x3A, text[j] != 0x2E { j += 1 }
            if j < end, text[j] == 0x2E {
                guard count <= 6, let v4 = parseV4(text, from: i, to: end) else { return nil }
                groups[count] = UInt16(v4 >> 16)
                groups[count + 1] = UInt16(v4 & 0xFFFF)
                count += 2
                i = end
                break
            }
            guard j - i >= 1, j - i <= 4 else { return nil }
            var group: UInt16 = 0
            for k in i..<j {
                guard let digit = Self.hexDigit(text[k]) else { return nil }
                group = group << 4 | UInt16(digit)
            }
            groups[count] = group
            count += 1
            i = j
            if i == end { break }
            // At a colon: "::" marks the gap (once), ":" separates, and the text may not end on ":".
            if text.matches("::", at: i) {
                guard gap < 0 else { return nil }
                gap = count
                i += 2
            } else {
                i += 1
                guard i < end else { return nil }
            }
        }
        if gap >= 0 {
            guard count < 8 else { return nil }
            let tail = count - gap
            let shift = 8 - count
            for k in stride(from: tail - 1, through: 0, by: -1) {
                groups[gap + shift + k] = groups[gap + k]
            }
            for k in gap..<(gap + shift) { groups[k] = 0 }
        } else {
            guard count == 8 else { return nil }
        }
        var high: UInt64 = 0, low: UInt64 = 0
        for k in 0..<4 { high = high << 16 | UInt64(groups[k]) }
        for k in 4..<8 { low = low << 16 | UInt64(groups[k]) }
        return (high, low)
    }

    @inline(__always) static func hexDigit(_ b: UInt8) -> UInt8? {
        if b &- 0x30 < 10 { return b &- 0x30 }
        let lower = b | 0x20
        if lower &- 0x61 < 6 { return lower &- 0x61 + 10 }
        return nil
    }
}
