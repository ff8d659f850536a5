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

    private func tokenEnd(from: Int) -> Int {
        if from < end, line[from] == 0x22 { return quotedEnd(from: from) }
        var k = from
        while k < end, line[k] != 0x20 {
            if line[k] == 0x22 { k = quotedEnd(from: k); continue }
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
        case 0x48 where line.matches("H=", at: start): return hostField(from: start + 2)
        case 0x55 where line.matches("U=", at: start): return Field(key: .user, value: value(after: 2))
        case 0x50 where line.matches("P=", at: start): return Field(key: .proto, value: value(after: 2))
        case 0x41 where line.matches("A=", at: start): return Field(key: .auth, value: value(after: 2))
        case 0x53 where line.matches("S=", at: start): return Field(key: .size, value: value(after: 2))
        case 0x52 where line.matches("R=", at: start): return Field(key: .router, value: value(after: 2))
        case 0x46 where line.matches("F=", at: start): return Field(key: .from, value: value(after: 2))
        case 0x54 where line.matches("T=\"", at: start):
            let v = value(after: 2)
            return Field(key: .subject, value: v.count >= 2 ? v.slice(1..<(v.count - 1)) : v)
        case 0x54 where line.matches("T=", at: start): return Field(key: .transport, value: value(after: 2))
        case 0x69 where line.matches("id=", at: start): return Field(key: .messageIDHeader, value: value(after: 3))
        case 0x66 where line.matches("for ", at: start):
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

    /// `H=name (helo) [ip]:port`, each part optional but in this order.
    private mutating func hostField(from start: Int) -> Field {
        var k = start
        var sawName = false
        var ip: ByteLine? = nil
        var valueEnd = start
        while k < end {
            let b = line[k]
            if b == 0x5B { // [ip]
                guard let close = line.firstIndex(of: 0x5D, from: k), close < end else { break }
                ip = line.slice((k + 1)..<close)
                k = close + 1
                if k < end, line[k] == 0x3A { while k < end, line[k] != 0x20 { k += 1 } } // :port
                break
            } else if b == 0x28 { // (helo)
                guard let close = line.firstIndex(of: 0x29, from: k), close < end else { break }
                k = close + 1
                valueEnd = k
            } else if !sawName && b != 0x20 {
                sawName = true
                while k < end, line[k] != 0x20 { k += 1 }
                valueEnd = k
            } else {
                break
            }
            // One space between the parts; anything else ends the field.
            if k < end, line[k] == 0x20, k + 1 < end, line[k + 1] == 0x28 || line[k + 1] == 0x5B {
                k += 1
            } else {
                break
            }
        }
        i = k
        return Field(key: .host, value: line.slice(start..<valueEnd), ip: ip)
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
