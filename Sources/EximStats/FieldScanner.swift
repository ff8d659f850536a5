import TailWatchEngine

/// Walks the `KEY=value` fields of a mainlog line from left to right.
///
/// Why a scanner and not a search: searching a line for ` S=` finds the text a sender wrote into a
/// subject or a certificate name just as well as the real field. The scanner steps over whole
/// fields, including quoted values (`T="…"`, `DN="…"`, `C="…"`, with `\"` escapes) and the
/// `H=name (helo) [ip]:port` group, so what it yields is always a field exim wrote.
struct FieldScanner {
    enum Key: Equatable {
        case host, user, proto, auth, size, router, transport, from, messageIDHeader, subject, recipients
        case errorText, other
    }

    struct Field {
        var key: Key
        var value: ByteLine
        var ip: ByteLine? = nil
    }

    let line: ByteLine
    private var i: Int
    private let end: Int

    init(line: ByteLine, from: Int, end: Int) {
        self.line = line
        self.i = from
        self.end = end
    }

    /// Whether `literal` starts at `at` and ends within this scanner's range.
    @inline(__always) private func has(_ literal: StaticString, at: Int) -> Bool {
        at + literal.utf8CodeUnitCount <= end && line.matches(literal, at: at)
    }

    private mutating func skipSpaces() {
        while i < end, line[i] == 0x20 { i += 1 }
    }

    /// Index just past the closing quote of a value starting at `from` (which holds `"`).
    private func quotedEnd(from: Int) -> Int {
        var k = from + 1
        while k < end {
            let b = line[k]
            if b == 0x5C { k += 2; continue }
            if b == 0x22 { return k + 1 }
            k += 1
        }
        return end
    }

    /// End of the space-separated token at `from`, stepping over quoted parts whole.
    ///
    /// Eight bytes at a time while eight are left: clearing bit 1 of each byte turns both a quote
    /// (0x22) and a space (0x20), and nothing else, into 0x20, so the first of them is the word's
    /// first zero byte after an XOR with 0x20 (found exactly by the usual test for a zero byte,
    /// whose stray flags only ever sit above the first true one). Every line's addresses, hosts
    /// and routing fields pass through here, on both parsing threads.
    func tokenEnd(from: Int) -> Int {
        var k = from
        while k < end {
            if k + 8 <= end {
                let word = UInt64(littleEndian: UnsafeRawPointer(line.base + k).loadUnaligned(as: UInt64.self))
                let x = (word & 0xFDFD_FDFD_FDFD_FDFD) ^ 0x2020_2020_2020_2020
                let zero = (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
                if zero == 0 {
                    k += 8
                    continue
                }
                k += zero.trailingZeroBitCount >> 3
            }
            let b = line[k]
            if b == 0x20 { return k }
            if b == 0x22 { k = quotedEnd(from: k); continue }
            k += 1
        }
        return k
    }

    /// The next field, or nil at the end. Unknown tokens come back as `.other`.
    mutating func next() -> Field? {
        skipSpaces()
        guard i < end else { return nil }
        let start = i
        @inline(__always) func value(after n: Int) -> ByteLine {
            let e = tokenEnd(from: start + n)
            i = e
            return line.slice((start + n)..<e)
        }
        switch line[start] {
        case 0x48 where has("H=", at: start): return hostField(from: start + 2)
        case 0x55 where has("U=", at: start): return Field(key: .user, value: value(after: 2))
        case 0x50 where has("P=", at: start): return Field(key: .proto, value: value(after: 2))
        case 0x41 where has("A=", at: start): return Field(key: .auth, value: value(after: 2))
        case 0x53 where has("S=", at: start): return Field(key: .size, value: value(after: 2))
        case 0x52 where has("R=", at: start): return Field(key: .router, value: value(after: 2))
        case 0x46 where has("F=", at: start): return Field(key: .from, value: value(after: 2))
        case 0x54 where has("T=\"", at: start):
            let v = value(after: 2)
            return Field(key: .subject, value: v.count >= 2 ? v.slice(1..<(v.count - 1)) : v)
        case 0x54 where has("T=", at: start): return Field(key: .transport, value: value(after: 2))
        case 0x69 where has("id=", at: start): return Field(key: .messageIDHeader, value: value(after: 3))
        case 0x66 where has("for ", at: start):
            i = end
            return Field(key: .recipients, value: line.slice((start + 4)..<end))
        case 0x3A where start + 1 >= end || line[start + 1] == 0x20:
            // " : error text" after the routing fields of a failure.
            i = end
            let from = min(end, start + 2)
            return Field(key: .errorText, value: line.slice(from..<end))
        default:
            let v = value(after: 0)
            return Field(key: .other, value: v)
        }
    }

    /// `H=name (helo) [ip]:port`. The group ends at the first `[ip]` literal (hex digits, `.` and
    /// `:` only) followed by a space, a `:port` or the end; everything before it is the host's
    /// name and HELO, however many words a HELO that exim accepted as junk has. Without an IP
    /// literal the group is a name and an optional `(helo)`.
    private mutating func hostField(from start: Int) -> Field {
        var k = start
        while let open = line.firstIndex(of: 0x5B, from: k), open < end {
            var close = open + 1
            while close < end, Self.isIPByte(line[close]) { close += 1 }
            let atSeparator = open == start || line[open - 1] == 0x20
            if atSeparator, close > open + 1, close < end, line[close] == 0x5D,
               close + 1 == end || line[close + 1] == 0x20 || line[close + 1] == 0x3A {
                var after = close + 1
                if after < end, line[after] == 0x3A { while after < end, line[after] != 0x20 { after += 1 } }
                i = after
                let valueEnd = max(start, open - 1)
                return Field(key: .host, value: line.slice(start..<valueEnd), ip: line.slice((open + 1)..<close))
            }
            k = open + 1
        }
        // No IP literal: a name, then an optional "(helo)".
        var e = start
        while e < end, line[e] != 0x20 { e += 1 }
        if e + 1 < end, line[e + 1] == 0x28, let close = line.firstIndex(of: 0x29, from: e + 1), close < end {
            e = close + 1
        }
        i = e
        return Field(key: .host, value: line.slice(start..<e))
    }

    @inline(__always) static func isIPByte(_ b: UInt8) -> Bool {
        (b &- 0x30 < 10) || (b &- 0x61 < 6) || (b &- 0x41 < 6) || b == 0x2E || b == 0x3A
    }

    /// After `id=` or a subject: reads the subject (if not read yet), skips `from <…>`, and returns
    /// the `for` list. Nothing here sets an accounting field.
    mutating func finishAfterSubject(startingWithSubject: Bool) -> (subject: ByteLine?, recipients: ByteLine?) {
        var subject: ByteLine? = nil
        var recipients: ByteLine? = nil
        var sawSubject = startingWithSubject
        while let field = next() {
            switch field.key {
            case .subject where !sawSubject:
                subject = field.value
                sawSubject = true
            case .recipients:
                recipients = field.value
            default:
                break
            }
        }
        return (subject, recipients)
    }
}
