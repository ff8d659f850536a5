import Foundation
import Testing
import CpBandwd
import TailWatchEngine
import TestSupport

/// The access-log parser on every shape a hosting server writes, and on hostile requests.
@Suite struct AccessLogParserTests {
    private func parse(_ text: String, from: Int = 0) -> AccessLogParser.Outcome {
        var parser = AccessLogParser()
        return withByteLine(text) { parser.parse($0, from: from) }
    }

    @Test func combinedCommonIPv6HostnamesAndForwardedLists() {
        #expect(parse(#"83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /a.png HTTP/1.1" 200 203023 "http://x/" "Mozilla/5.0""#)
            == .request(AccessLogRecord(time: 1_431_857_103, status: 200, bytes: 203023)))
        #expect(parse(#"::1 - - [26/Dec/2016:16:16:29 +0200] "GET /favicon.ico HTTP/1.1" 404 209"#)
            == .request(AccessLogRecord(time: 1_482_761_789, status: 404, bytes: 209)))
        #expect(parse(#"::1 - - [26/Dec/2016:16:16:48 +0200] "-" 408 -"#)
            == .request(AccessLogRecord(time: 1_482_761_808, status: 408, bytes: 0)))
        #expect(parse(#"10.0.0.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "UA""#)
            == .request(AccessLogRecord(time: 1_481_105_107, status: 200, bytes: 571)))
        #expect(parse(#"Jun 21 09:54:39 raptor root: stegosaurus.dinos.test - - [21/Jun/2015:09:54:39 +0200] "GET / HTTP/1.1" 200 561 "-" "UA""#)
            == .request(AccessLogRecord(time: 1_434_873_279, status: 200, bytes: 561)))
        #expect(parse(#"1.2.3.4 - bob [10/Feb/2012:16:42:07 -0500] "GET / HTTP/1.0" 301 368"#)
            == .request(AccessLogRecord(time: 1_328_910_127, status: 301, bytes: 368)))
        #expect(parse(#"1.2.3.4 - - [10/Feb/2012:16:42:07 -0500] "" 400 0 "-" "-""#)
            == .request(AccessLogRecord(time: 1_328_910_127, status: 400, bytes: 0)))
    }

    @Test func hostileRequestsRefererAndAgentsNeverChangeStatusOrBytes() {
        #expect(parse(#"1.2.3.4 - - [10/Feb/2012:16:42:07 +0000] "GET /x\" 200 999999999 \"y HTTP/1.1" 404 12 "ref\" 200 5" "Mozilla \" 200 999999999 \"""#)
            == .request(AccessLogRecord(time: 1_328_892_127, status: 404, bytes: 12)))
        // A user name that imitates a timestamp (Apache escapes its quotes) does not fool it.
        #expect(parse(#"1.2.3.4 - x [01/Jan/2030:00:00:00 +0000] \"GET / HTTP/1.1\" 200 99999999 [10/Feb/2012:16:42:07 +0000] "GET / HTTP/1.1" 200 7"#)
            == .request(AccessLogRecord(time: 1_328_892_127, status: 200, bytes: 7)))
    }

    /// The fast parser (one instance, its minute cache carried from line to line) against the plain
    /// reference on lines built to hit its shortcuts: timestamps that share a minute but not a
    /// zone or valid seconds, escaped quotes and backslash runs, odd statuses and sizes, fake
    /// timestamps in user names, vhosts, and every line cut short and with a byte changed.
    @Test func theFastParserAgreesWithThePlainOneOnEveryVariant() {
        var generator = SeededGenerator(seed: 0x5EED)
        func pick<T>(_ options: [T]) -> T { options[Int(generator.next() % UInt64(options.count))] }
        var fast = AccessLogParser()
        let reference = ReferenceAccessLogParser()
        var lines: [String] = []
        for _ in 0..<6_000 {
            let vhost = pick(["", "site.example ", "site.example:443 ", "a "])
            let client = pick(["1.2.3.4", "::1", "10.0.0.2, 10.0.0.1", "host.example", "", "[x]"])
            let user = pick(["-", "bob", "\"[01/Jan/2030:00:00:00 +0000]\"", "[01/Jan/2030:00:00:00 +0000]", "a b"])
            let stamp = "[\(pick(["10", "31", "00", "1x"]))/\(pick(["Feb", "Dec", "Foo"]))/2012:\(pick(["16", "23", "24"])):\(pick(["42", "59", "60"])):\(pick(["07", "00", "59", "60", "61", "6x", "99"])) \(pick(["+0000", "-0500", "+0130", "*0000", "+00x0"]))]"
            let request = pick(["GET / HTTP/1.1", "GET /x\\\" 200 9 \\\"y", "a\\\\", "\\", "-", "", "GET /\\\\\\\" x"])
            let status = pick(["200", "-", "2000", "20", "abc", ""])
            let bytes = pick(["123", "-", "0", "123456789012345", "1234567890123456", "-5", "12a", ""])
            let tail = pick(["", " \"-\" \"Mozilla \\\" 200 999999999 \\\"\"", " [01/Jan/2030:00:00:00 +0000] \"GET\" 200 5"])
            lines.append("\(vhost)\(client) - \(user) \(stamp) \"\(request)\" \(status) \(bytes)\(tail)")
        }
        var checked = 0
        for text in lines {
            var bytes = Array(text.utf8)
            var variants = [bytes]
            if bytes.count > 1 { variants.append(Array(bytes[0..<Int(generator.next() % UInt64(bytes.count))])) }
            if !bytes.isEmpty {
                bytes[Int(generator.next() % UInt64(bytes.count))] = pick([0x20, 0x22, 0x5B, 0x5D, 0x5C, 0x2D, 0x30, 0x3A, 0x2F])
                variants.append(bytes)
            }
            for variant in variants {
                variant.withUnsafeBufferPointer { buffer in
                    let line = ByteLine(base: buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!, count: buffer.count)
                    let start = line.firstIndex(of: 0x20).map { $0 + 1 } ?? 0
                    for from in [0, start] {
                        let expected = reference.parse(line, from: from)
                        let got = fast.parse(line, from: from)
                        if got != expected { Issue.record("\(String(decoding: variant, as: UTF8.self)) from \(from): \(got) != \(expected)") }
                        checked += 1
                    }
                }
            }
        }
        #expect(checked > 30_000)
        // The variants are not all rejections: the shortcuts were taken.
        let accepted = lines.prefix(2_000).filter { line in
            if case .request = withByteLine(line, { fast.parse($0, from: 0) }) { return true }
            return false
        }
        #expect(accepted.count > 20)
    }

    @Test func malformedLinesAreRejectedWithAReason() {
        let bad = [
            #"192.168.202.254 [20/Jul/2009:22:59:29 +0000] "GET /vmkboot.gz HTTP/1.0" 404 46210 "-" "gPXE/0.9.7""#,
            "garbage",
            "",
            #"1.2.3.4 - - [10/Feb/2012:16:42:07 +0000] "GET / HTTP/1.1" abc 12"#,
            #"1.2.3.4 - - [10/Feb/2012:16:42:07 +0000] "GET / HTTP/1.1" 200"#,
            #"1.2.3.4 - - [99/Foo/2012:16:42:07 +0000] "GET / HTTP/1.1" 200 1"#,
        ]
        for line in bad {
            guard case .rejected = parse(line) else {
                Issue.record("accepted: \(line)")
                continue
            }
        }
    }

    @Test(.enabled(if: Corpus.file("access/semicomplete.com-2015-05.log") != nil, "the shared corpus is not beside the project"))
    func semicompleteTotalsMatchTheReferenceToTheByte() throws {
        let text = try String(contentsOfFile: Corpus.file("access/semicomplete.com-2015-05.log")!, encoding: .utf8)
        var total: Int64 = 0
        var perDay: [Int64: (bytes: Int64, lines: Int)] = [:]
        var statuses: [Int: Int] = [:]
        var dashes = 0
        for line in text.split(separator: "\n") {
            guard case .request(let r) = parse(String(line)) else {
                Issue.record("rejected: \(line)")
                continue
            }
            total += r.bytes
            let day = r.time - r.time % 86400
            perDay[day, default: (0, 0)].bytes += r.bytes
            perDay[day, default: (0, 0)].lines += 1
            statuses[r.status, default: 0] += 1
            if line.hasSuffix("\" -") || line.contains("\" \(r.status) - ") { dashes += 1 }
        }
        #expect(total == 2_747_282_740)
        #expect(dashes == 669)
        #expect(statuses == [200: 9126, 304: 445, 404: 213, 301: 164, 206: 45, 500: 3, 416: 2, 403: 2])
        let may17: Int64 = 1_431_820_800
        #expect(perDay[may17]! == (414_259_902, 1632))
        #expect(perDay[may17 + 86400]! == (788_636_158, 2893))
        #expect(perDay[may17 + 2 * 86400]! == (665_827_339, 2896))
        #expect(perDay[may17 + 3 * 86400]! == (878_559_341, 2579))
    }

    @Test(.enabled(if: Corpus.folder != nil, "the shared corpus is not beside the project"))
    func edgeCaseFilesParseAndOnlyTheMalformedLineIsRejected() throws {
        let folder = Corpus.folder! + "/access"
        var rejected: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) where !name.hasPrefix("semicomplete") {
            let text = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
            for line in text.split(separator: "\n") {
                if case .rejected = parse(String(line)) { rejected.append("\(name): \(line)") }
            }
        }
        #expect(rejected.contains { $0.hasPrefix("lnav-bad-access.log: 192.168.202.254 [20/Jul/2009:22:59:29") })
        #expect(rejected.filter { $0.hasPrefix("lnav-bad-access") }.count == 1)
    }

    @Test(.enabled(if: Corpus.file("maillog/lograptor-dovecot.log") != nil, "the shared corpus is not beside the project"))
    func dovecotLogoutLinesOfTheCorpus() throws {
        // A fixed "now" in the corpus's year so the year-less stamps land there.
        var parser = DovecotLogoutParser(zone: TimeZone(identifier: "UTC")!, now: { Date(timeIntervalSince1970: 1_433_116_800) })
        let text = try String(contentsOfFile: Corpus.file("maillog/lograptor-dovecot.log")!, encoding: .utf8)
        var imap: Int64 = 0, pop3: Int64 = 0, sessions = 0
        var expectedIMAP: Int64 = 0, expectedPOP3: Int64 = 0, expectedSessions = 0
        for line in text.split(separator: "\n") {
            let s = String(line)
            // Reference by plain string handling, independent of the parser.
            if s.contains("dovecot: IMAP("), let r = s.range(of: " bytes=") {
                let parts = s[r.upperBound...].split(separator: " ")[0].split(separator: "/")
                expectedIMAP += Int64(parts[0])! + Int64(parts[1])!
                expectedSessions += 1
            }
            if s.lowercased().contains("dovecot: pop3("), let r = s.range(of: "retr=") {
                expectedPOP3 += Int64(s[r.upperBound...].split(separator: ",")[0].split(separator: "/")[1])!
                expectedSessions += 1
                if let t = s.range(of: "top=") { expectedPOP3 += Int64(s[t.upperBound...].split(separator: ",")[0].split(separator: "/")[1])! }
            }
            guard let session = withByteLine(s, { line in parser.parse(line).map { ($0.protocol, $0.bytes) } }) else { continue }
            sessions += 1
            if session.0 == .imap { imap += session.1 } else { pop3 += session.1 }
        }
        #expect(sessions == expectedSessions && sessions > 0)
        #expect(imap == expectedIMAP && imap > 0)
        #expect(pop3 == expectedPOP3)
    }
}
