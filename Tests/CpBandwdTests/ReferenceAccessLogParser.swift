@testable import CpBandwd
import TailWatchEngine

/// The first, plain version of the access-log parser (a byte at a time, no caches), kept as the
/// reference the fast one is compared with: whatever it accepted or rejected, and why, the fast
/// one must too.
struct ReferenceAccessLogParser {
    typealias Outcome = AccessLogParser.Outcome

    /// The parser's reasons, recovered from it by their texts (they are internal to its module).
    enum Reasons {
        static let noAccessTimestamp = RejectReason("no [dd/Mon/yyyy:HH:MM:SS +zzzz] timestamp after client, ident and user")
        static let noRequest = RejectReason("no quoted request after the timestamp")
        static let badStatus = RejectReason("status is not three digits or '-'")
        static let noBytes = RejectReason("bytes field is not a number or '-'")
    }

    func parse(_ line: ByteLine, from start: Int = 0) -> Outcome {
        // Candidates for the timestamp: a "[" that starts the fourth or a later word and closes 27
        // bytes on. The first that is followed by a quoted request, a status and a size wins; an
        // authenticated user name (client-controlled, with its quotes escaped by Apache) that
        // imitates a timestamp fails that test and the search goes on.
        var words = 0
        var inWord = false
        var i = start
        var firstFailure = Reasons.noAccessTimestamp
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
                        if firstFailure == Reasons.noAccessTimestamp { firstFailure = reason }
                    }
                }
            }
            i += 1
        }
        return .rejected(firstFailure)
    }

    /// The rest of the line after a timestamp candidate at `open`.
    private func parse(_ line: ByteLine, timestampAt open: Int) -> Outcome {
        guard let time = AccessLogParser.time(line, at: open + 1) else { return .rejected(Reasons.noAccessTimestamp) }
        // ` "request" status bytes`
        var k = open + 28
        guard k + 2 <= line.count, line[k] == 0x20, line[k + 1] == 0x22 else { return .rejected(Reasons.noRequest) }
        k += 2
        while k < line.count {
            let b = line[k]
            if b == 0x5C { k += 2; continue }
            if b == 0x22 { break }
            k += 1
        }
        guard k + 1 < line.count, line[k + 1] == 0x20 else { return .rejected(Reasons.noRequest) }
        k += 2
        let statusEnd = line.firstIndex(of: 0x20, from: k) ?? line.count
        let statusField = line.slice(k..<statusEnd)
        let status: Int
        if statusField.count == 1, statusField[0] == 0x2D {
            status = 0
        } else if statusField.count == 3, let n = statusField.decimalValue {
            status = Int(n)
        } else {
            return .rejected(Reasons.badStatus)
        }
        guard statusEnd < line.count else { return .rejected(Reasons.noBytes) }
        let bytesStart = statusEnd + 1
        let bytesEnd = line.firstIndex(of: 0x20, from: bytesStart) ?? line.count
        let bytesField = line.slice(bytesStart..<bytesEnd)
        let bytes: Int64
        if bytesField.count == 1, bytesField[0] == 0x2D {
            bytes = 0
        } else if bytesField.count <= 15, let n = bytesField.decimalValue {
            bytes = n
        } else {
            return .rejected(Reasons.noBytes)
        }
        return .request(AccessLogRecord(time: time, status: status, bytes: bytes))
    }

}
