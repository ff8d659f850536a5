import Foundation
import GRDB
import Testing
import EximStats
import TailWatchEngine
import TestSupport

/// The driver over exim's own test-suite mainlog (17,397 lines of every shape exim writes), from
/// the shared corpus when it is present: every line accounted for, stored kinds matching the
/// corpus's own count (`line-types.txt`).
@Suite struct EximCorpusTests {
    @Test(.enabled(if: Corpus.file("exim/exim-testsuite-mainlog.log") != nil, "the shared corpus is not beside the project"))
    func everyLineOfEximsTestSuiteLogIsAccountedFor() throws {
        let source = Corpus.file("exim/exim-testsuite-mainlog.log")!
        let h = try EximStatsHarness()
        try LogWriter.copy(source, h.log)
        let driver = try h.runOnce()
        var counts: [EximLineKind: Int] = [:]
        for kind in EximLineKind.allCases { counts[kind] = driver.lineCounts[kind.rawValue] }
        // Every line is parsed, ignored by kind, or rejected: nothing falls through.
        let lines = try String(contentsOfFile: source, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).count - 1
        #expect(counts.values.reduce(0, +) == lines)
        #expect(counts[.arrival] == 3251)
        #expect(counts[.delivery] == 2370)
        #expect(counts[.additionalDelivery] == 709)
        #expect(counts[.cutthroughDelivery] == 34)
        #expect(counts[.deferral] == 688)
        #expect(counts[.failure] == 601)
        #expect(counts[.suppressedDelivery] == 50)
        #expect(counts[.completed] == 2499)
        #expect(counts[.rejection] == Self.rejections(inLog: source).permanent + Self.rejections(inLog: source).temporary)
        // line-types.txt counts 671 lines without a timestamp and 309 harness separators apart.
        #expect(counts[.continuation] == 671 + 309)
        #expect(counts[.rejected] == 0)
        // And the tables hold exactly what was parsed.
        #expect(try h.count("SELECT COUNT(*) FROM sends") == 3251)
        #expect(try h.count("SELECT COUNT(*) FROM smtp WHERE kind = '=>'") == 2370)
        #expect(try h.count("SELECT COUNT(*) FROM smtp WHERE kind = '->'") == 709)
        #expect(try h.count("SELECT COUNT(*) FROM smtp WHERE kind = '>>'") == 34)
        #expect(try h.count("SELECT COUNT(*) FROM defers") == 688)
        #expect(try h.count("SELECT COUNT(*) FROM failures") == 601)
        #expect(try h.count("SELECT COUNT(*) FROM rejects") == counts[.rejection])
        #expect(try h.count("SELECT SUM(sent) FROM mail_hourly") == 3251)
    }

    /// The rejections in a mainlog by exim's own eximstats rule, worked out here from the text: a
    /// line without a delivery flag saying `rejected`, `refused` or `dropped`; except a line of a
    /// message that is not a rejection of it (the SpamAssassin verdict beside one, and a delivery
    /// attempt's "host [ip] Connection refused", whose `==` line counts it), which eximstats also
    /// counts, and misreads with exim 4.97's 23-character ids.
    static func rejections(inLog path: String) -> (permanent: Int, temporary: Int) {
        var permanent = 0, temporary = 0
        for line in (try? String(contentsOfFile: path, encoding: .isoLatin1))?.split(separator: "\n") ?? [] {
            var words = line.split(separator: " ", omittingEmptySubsequences: false)
            guard words.count > 3, words[0].count == 10, words[1].count >= 8 else { continue }
            words.removeFirst(2)
            if let zone = words.first, zone.first == "+" || zone.first == "-" { words.removeFirst() }
            if let pid = words.first, pid.first == "[", pid.last == "]" { words.removeFirst() }
            guard let first = words.first else { continue }
            let isMessage = (first.count == 16 || first.count == 23) && first.split(separator: "-").count == 3
            let rest = words.dropFirst(isMessage ? 1 : 0).joined(separator: " ")
            if isMessage {
                let flags = ["<= ", "=> ", "-> ", ">> ", "** ", "== ", "*> ", "Completed", "SA:"]
                guard !flags.contains(where: rest.hasPrefix), rest.contains("rejected") else { continue }
            } else {
                guard rest.contains("rejected") || rest.contains("refused") || rest.contains("dropped") else { continue }
                guard !rest.hasPrefix("Start queue run"), !rest.hasPrefix("End queue run") else { continue }
            }
            if rest.contains("temporarily rejected") { temporary += 1 } else { permanent += 1 }
        }
        return (permanent, temporary)
    }

    /// Logs from real servers: every delivery attempt and rejection is one `mail trace` row, with
    /// the message id, result and recipient its line says; rejections as eximstats counts them.
    @Test(.enabled(if: Corpus.file("real/exim") != nil, "the shared corpus is not beside the project"))
    func realLogsTraceEveryDeliveryAndRejection() throws {
        let folder = Corpus.file("real/exim")!
        // What exim's eximstats (4.96) prints as Rejects / Temp Rejects for these files; parisnw's
        // 20 are delivery attempts' "Connection refused" lines, which are not rejections of mail.
        let eximstats = ["ddgrey-mainlog": (1174, 0), "heavybrain101-exim4-mainlog.1": (133, 2), "parisnw-mainlog": (0, 0), "parisnw-mainlog.1": (0, 0)]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() {
            let path = folder + "/" + name
            let h = try EximStatsHarness()
            try LogWriter.copy(path, h.log)
            try h.runOnce()
            let rows = try h.database().read { db in try MailTrace.rows(db, .init(limit: 100_000)) }
            let traced = rows.filter { $0.result != "rejected" }.map { "\($0.messageID ?? "-") \($0.result) \($0.recipient?.lowercased() ?? "-")" }
            #expect(traced.sorted() == Self.deliveries(inLog: path).sorted(), "\(name)")
            let rejected = rows.filter { $0.result == "rejected" }
            let expected = Self.rejections(inLog: path)
            #expect(rejected.filter { $0.temporary == false }.count == expected.permanent, "\(name)")
            #expect(rejected.filter { $0.temporary == true }.count == expected.temporary, "\(name)")
            if let known = eximstats[name] {
                #expect(expected.permanent == known.0 && expected.temporary == known.1, "\(name): eximstats counts \(known)")
            }
        }
    }

    /// `MSGID result recipient` for each `=>`, `->`, `>>`, `**` and `==` line, read from the words
    /// of the line: the recipient is the address in angle brackets when one follows the first.
    static func deliveries(inLog path: String) -> [String] {
        var out: [String] = []
        for line in (try? String(contentsOfFile: path, encoding: .isoLatin1))?.split(separator: "\n") ?? [] {
            let words = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            guard let at = words.indices.first(where: { ["=>", "->", ">>", "**", "=="].contains(words[$0]) }), at >= 3, at + 1 < words.count else { continue }
            let id = words[at - 1]
            guard (id.count == 16 || id.count == 23) && id.split(separator: "-").count == 3 else { continue }
            let result = ["**": "failed", "==": "deferred"][words[at]] ?? "delivered"
            var recipient = words[at + 1]
            if recipient.hasSuffix(":") && (result != "delivered") { recipient.removeLast() }
            if at + 2 < words.count {
                var next = words[at + 2]
                if next.hasSuffix(":") { next.removeLast() }
                if next.hasPrefix("<"), next.hasSuffix(">"), next.count > 2 { recipient = String(next.dropFirst().dropLast()) }
            }
            out.append("\(id) \(result) \(recipient.lowercased())")
        }
        return out
    }
}
