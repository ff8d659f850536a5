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
        #expect(counts[.rejection] == 255)
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
        #expect(try h.count("SELECT COUNT(*) FROM rejects") == 255)
        #expect(try h.count("SELECT SUM(sent) FROM mail_hourly") == 3251)
    }
}
