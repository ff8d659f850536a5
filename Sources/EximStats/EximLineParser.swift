import Foundation
import TailWatchEngine

/// Reads one exim mainlog line into an `EximEvent`, straight from its bytes.
///
/// Shape: `YYYY-MM-DD HH:MM:SS[.fff][ ±ZZZZ][ [pid]] [MSGID ]FLAG ...`. Fields are read in exim's
/// order and only up to `id=`/`T="` (the Message-ID header and the subject, both written by the
/// sender), so no text inside them can set a size, an authenticated id or a host.
///
/// Pure: no I/O, no shared state besides the cached zone offset; safe to fuzz.
public struct EximLineParser {
    private var clock: CivilTime

    public init(timezone: TimeZone) {
        clock = CivilTime(zone: timezone)
    }

    public mutating func parse(_ line: ByteLine) -> EximEvent {
        guard let stamp = CivilTime.parseDateTime(line, at: 0) else {
            return line.count == 0 || line.isValidUTF8 && !Self.hasControlBytes(line) ? .ignored(.continuation) : .rejected(.notExim)
        }
        var i = 19
        // Optional fraction of a second (log_timezone / millisec selectors).
        if i < line.count, line[i] == 0x2E {
            i += 1
            while i < line.count, line[i] &- 0x30 < 10 { i += 1 }
        }
        var offset: Int? = nil
        if i + 6 <= line.count, line[i] == 0x20, line[i + 1] == 0x2B || line[i + 1] == 0x2D,
           let zone = line.slice((i + 2)..<(i + 6)).decimalValue {
            let minutes = Int(zone / 100) * 60 + Int(zone % 100)
            offset = (line[i + 1] == 0x2D ? -1 : 1) * minutes * 60
            i += 6
        }
        let time = clock.seconds(year: stamp.year, month: stamp.month, day: stamp.day, hour: stamp.hour, minute: stamp.minute, second: stamp.second, offset: offset)
        guard i < line.count, line[i] == 0x20 else { return .ignored(.otherLine) }
        i += 1
        // Optional [pid].
        if i < line.count, line[i] == 0x5B, let close = line.firstIndex(of: 0x5D, from: i),
           close > i + 1, line.slice((i + 1)..<close).decimalValue != nil, close + 1 < line.count, line[close + 1] == 0x20 {
            i = close + 2
        }
        let idLength = Self.messageIDLength(line, at: i)
        guard idLength > 0 else { return parseNonMessage(line, from: i, time: time) }
        let id = line.slice(i..<(i + idLength))
        i += idLength
        guard i < line.count else { return .ignored(.otherMessageLine) }
        i += 1 // the space after the id
        if line.matches("Completed", at: i) { return .ignored(.completed) }
        guard i + 3 <= line.count, line[i + 2] == 0x20 else { return messageRejection(line, from: i, id: id, time: time) }
        let flag = (line[i], line[i + 1])
        let rest = i + 3
        switch flag {
        case (0x3C, 0x3D): return parseArrival(line, from: rest, id: id, time: time)       // <=
        case (0x3D, 0x3E): return parseDelivery(line, from: rest, id: id, time: time, kind: .delivery)            // =>
        case (0x2D, 0x3E): return parseDelivery(line, from: rest, id: id, time: time, kind: .additionalDelivery)  // ->
        case (0x3E, 0x3E): return parseDelivery(line, from: rest, id: id, time: time, kind: .cutthroughDelivery)  // >>
        case (0x2A, 0x2A): return parseDelivery(line, from: rest, id: id, time: time, kind: .failure)             // **
        case (0x3D, 0x3D): return parseDelivery(line, from: rest, id: id, time: time, kind: .deferral)            // ==
        case (0x2A, 0x3E): return .ignored(.suppressedDelivery)                                                    // *>
        default: return messageRejection(line, from: i, id: id, time: time)
        }
    }

    /// `S=` as a byte count; 0 when it is not a number or is beyond 10 TB (no message is that
    /// large, and sums of such values must not overflow).
    @inline(__always) static func messageSize(_ value: ByteLine) -> Int64 {
        guard value.count <= 13 else { return 0 }
        return value.decimalValue ?? 0
    }

    static func hasControlBytes(_ line: ByteLine) -> Bool {
        for i in 0..<line.count where line[i] < 0x20 && line[i] != 0x09 { return true }
        return false
    }

    @inline(__always) static func isIDByte(_ b: UInt8) -> Bool {
        (b &- 0x30 < 10) || (b &- 0x41 < 26) || (b &- 0x61 < 26)
    }

    /// 23 (`XXXXXX-XXXXXXXXXXX-XXXX`), 16 (`XXXXXX-XXXXXX-XX`) or 0 when no message id starts at `i`.
    static func messageIDLength(_ line: ByteLine, at i: Int) -> Int {
        guard i + 16 <= line.count, line[i + 6] == 0x2D else { return 0 }
        for k in 0..<6 where !isIDByte(line[i + k]) { return 0 }
        func run(_ from: Int, _ n: Int) -> Bool {
            for k in from..<(from + n) where !isIDByte(line[k]) { return false }
            return true
        }
        func ends(_ at: Int) -> Bool { at == line.count || line[at] == 0x20 }
        if i + 23 <= line.count, line[i + 18] == 0x2D, run(i + 7, 11), run(i + 19, 4), ends(i + 23) { return 23 }
        if line[i + 13] == 0x2D, run(i + 7, 6), run(i + 14, 2), ends(i + 16) { return 16 }
        return 0
    }

    // MARK: Rejections

    /// Lines without a message id: queue runs, and the refusals exim's own eximstats counts as
    /// rejections (any line with `rejected`, `refused` or `dropped`: a recipient, a sender, a HELO,
    /// a connection, a command flood).
    private func parseNonMessage(_ line: ByteLine, from i: Int, time: Int64) -> EximEvent {
        if line.matches("Start queue run", at: i) || line.matches("End queue run", at: i) { return .ignored(.queueRun) }
        guard line.firstIndex(of: "rejected", from: i) != nil || line.firstIndex(of: "refused", from: i) != nil
                || line.firstIndex(of: "dropped", from: i) != nil else { return .ignored(.otherLine) }
        return .rejection(Self.rejection(line, from: i, time: time, messageID: nil))
    }

    /// A line with a message id and no delivery flag that says the message was rejected (after
    /// DATA, by `local_scan()`, by a non-SMTP ACL). Not the SpamAssassin line beside it (`SA:`),
    /// nor a delivery attempt's "host [ip] Connection refused" (its `==` line counts it).
    private func messageRejection(_ line: ByteLine, from i: Int, id: ByteLine, time: Int64) -> EximEvent {
        guard !line.matches("SA:", at: i), line.firstIndex(of: "rejected", from: i) != nil else { return .ignored(.otherMessageLine) }
        return .rejection(Self.rejection(line, from: i, time: time, messageID: id))
    }

    /// `KEY=value` with a key of one to three capital letters, as exim writes its fields.
    static func isField(_ token: ByteLine) -> Bool {
        var k = 0
        while k < token.count, k < 4, token[k] &- 0x41 < 26 { k += 1 }
        return k > 0 && k < token.count && token[k] == 0x3D
    }

    /// The fields of a rejection: `H=` (host and IP), `F=` (sender), `rejected RCPT <recipient>`,
    /// and what exim said. The fields exim writes come first; the text from the first word that is
    /// not a field is the reason, except after `rejected RCPT <…>: `, where the reason follows.
    static func rejection(_ line: ByteLine, from i: Int, time: Int64, messageID: ByteLine?) -> EximRejection {
        var r = EximRejection(time: time, messageID: messageID)
        var fields = FieldScanner(line: line, from: i, end: line.count)
        var text = line.count
        while let field = fields.next() {
            switch field.key {
            case .host: if r.host == nil { r.host = field.value; r.ip = field.ip }
            case .from: if r.sender == nil { r.sender = field.value.trimmingAngleBrackets }
            case .other where Self.isField(field.value):
                continue  // X=TLS…, CV=no, I=…
            case .other, .errorText:
                text = field.value.base - line.base
            default: continue
            }
            if text < line.count { break }
        }
        r.reason = text < line.count ? line.slice(text..<line.count) : nil
        // A 4xx says so first ("temporarily rejected RCPT …"); a sender's address could say it anywhere.
        r.temporary = text < line.count && line.matches("temporarily ", at: text)
        if let at = line.firstIndex(of: "rejected RCPT ", from: text) {
            var j = at + 14
            if j < line.count, line[j] == 0x3C, let close = line.firstIndex(of: 0x3E, from: j) {
                r.recipient = line.slice((j + 1)..<close)
                j = close + 1
            }
            if j + 2 <= line.count, line[j] == 0x3A, line[j + 1] == 0x20 {
                r.reason = line.slice((j + 2)..<line.count)
            }
        }
        // "…: rejected connection from H=[ip] …", "SMTP call from (helo) [ip] dropped: …"
        if r.ip == nil, let reason = r.reason {
            if let h = reason.firstIndex(of: "H=") {
                var more = FieldScanner(line: reason, from: h, end: reason.count)
                if let field = more.next(), field.key == .host { r.host = field.value.count > 0 ? field.value : nil; r.ip = field.ip }
            } else if let open = reason.firstIndex(of: 0x5B), let close = reason.firstIndex(of: 0x5D, from: open), close > open + 1 {
                let literal = reason.slice((open + 1)..<close)
                var isIP = true
                for k in 0..<literal.count where !FieldScanner.isIPByte(literal[k]) { isIP = false; break }
                if isIP { r.ip = literal }
            }
        }
        return r
    }

    // MARK: <=

    private func parseArrival(_ line: ByteLine, from i: Int, id: ByteLine, time: Int64) -> EximEvent {
        // A quoted local part may hold spaces ("a b"@example.com): step over quotes whole.
        let senderEnd = FieldScanner(line: line, from: i, end: line.count).tokenEnd(from: i)
        guard senderEnd > i else { return .rejected(.badArrival) }
        var arrival = EximArrival(time: time, messageID: id, sender: line.slice(i..<senderEnd))
        var fields = FieldScanner(line: line, from: senderEnd, end: line.count)
        while let field = fields.next() {
            switch field.key {
            case .host:
                if arrival.host == nil { arrival.host = field.value; arrival.ip = field.ip }
            case .user: if arrival.localUser == nil { arrival.localUser = field.value }
            case .proto: if arrival.proto == nil { arrival.proto = field.value }
            case .auth: if arrival.auth == nil { arrival.auth = field.value }
            case .size: if arrival.size == 0 { arrival.size = Self.messageSize(field.value) }
            case .messageIDHeader, .subject:
                // Sender-controlled text from here on: only the subject and recipients are read.
                if field.key == .subject { arrival.subject = field.value }
                let tail = fields.finishAfterSubject(startingWithSubject: field.key == .subject)
                if let subject = tail.subject { arrival.subject = subject }
                arrival.recipients = tail.recipients
                return .arrival(arrival)
            case .recipients:
                arrival.recipients = field.value
                return .arrival(arrival)
            default: break
            }
        }
        return .arrival(arrival)
    }

    // MARK: => -> >> ** ==

    private func parseDelivery(_ line: ByteLine, from i: Int, id: ByteLine, time: Int64, kind: EximLineKind) -> EximEvent {
        // A quoted local part may hold spaces ("a b"@example.com): step over quotes whole.
        var addressEnd = FieldScanner(line: line, from: i, end: line.count).tokenEnd(from: i)
        // "** addr: error" and "== addr: error" may follow the address with a colon directly.
        if (kind == .failure || kind == .deferral), addressEnd > i + 1, line[addressEnd - 1] == 0x3A {
            addressEnd -= 1
        }
        guard addressEnd > i else { return .rejected(.badDelivery) }
        var delivery = EximDelivery(time: time, messageID: id, recipient: line.slice(i..<addressEnd))
        // "=> bob <bob@example.com>", "=> /dev/null <x@example.com>": the address the sender wrote
        // to follows in angle brackets, after what exim delivered to (a local user, file or pipe).
        if addressEnd + 2 < line.count, line[addressEnd] == 0x20, line[addressEnd + 1] == 0x3C,
           let close = line.firstIndex(of: 0x3E, from: addressEnd + 2), close > addressEnd + 2,
           close + 1 == line.count || line[close + 1] == 0x20 || line[close + 1] == 0x3A,
           line.slice((addressEnd + 2)..<close).firstIndex(of: 0x20) == nil {
            delivery.recipient = line.slice((addressEnd + 2)..<close)
            addressEnd = close + 1
        }
        var fields = FieldScanner(line: line, from: addressEnd, end: line.count)
        while let field = fields.next() {
            switch field.key {
            case .router: if delivery.router == nil { delivery.router = field.value }
            case .transport: if delivery.transport == nil { delivery.transport = field.value }
            case .host: if delivery.host == nil { delivery.host = field.value; delivery.ip = field.ip }
            case .errorText: delivery.error = field.value
            case .other where kind == .failure || kind == .deferral:
                // "defer (-53): retry time not reached": the first word that is not a field starts the error.
                if field.value.count > 0, field.value[0] != 0x3C {
                    delivery.error = line.slice((field.value.base - line.base)..<line.count)
                }
            default: break
            }
            if delivery.error != nil { break }
        }
        // "defer (-44) H=mx.example.org [192.0.2.7]: SMTP error …": the host exim was talking to
        // is named before the first ": " (what follows is the remote server's text).
        if delivery.host == nil, let error = delivery.error, let h = error.firstIndex(of: " H="),
           h < (error.firstIndex(of: ": ") ?? error.count) {
            var more = FieldScanner(line: error, from: h + 1, end: error.firstIndex(of: ": ") ?? error.count)
            if let field = more.next(), field.key == .host, field.value.count > 0 {
                delivery.host = field.value
                delivery.ip = field.ip
            }
        }
        switch kind {
        case .failure: return .failure(delivery)
        case .deferral: return .deferral(delivery)
        default: return .delivery(delivery, kind)
        }
    }
}

extension ByteLine {
    /// Without one pair of surrounding `<` `>`.
    var trimmingAngleBrackets: ByteLine {
        if count >= 2, self[0] == 0x3C, self[count - 1] == 0x3E { return slice(1..<(count - 1)) }
        return self
    }
}
