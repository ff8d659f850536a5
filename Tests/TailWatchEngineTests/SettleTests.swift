import Foundation
import GRDB
import Testing
import TailWatchEngine
import TestSupport

/// A driver may leave work running after a block (`LogDriver.settle`): the engine settles it before
/// anything else uses the database (another driver's lines, a commit, a tick), its writes commit
/// with the block's position, and a failure of that work fails the batch, which is read again.
@Suite struct SettleTests {
    /// What the two drivers saw. Unchecked: every field is touched with `lock` held.
    final class Ledger: @unchecked Sendable {
        private let lock = NSLock()
        private var unsettledNow = false
        private var seen: Set<String> = []
        private var settled = 0
        private var failures: Int

        init(failingSettles: Int = 0) { failures = failingSettles }

        func lingering() { lock.withLock { unsettledNow = true } }

        /// A settle: false when it is to fail (as a write to a full disk would).
        func settle() -> Bool {
            lock.withLock {
                unsettledNow = false
                settled += 1
                guard failures == 0 else {
                    failures -= 1
                    return false
                }
                return true
            }
        }

        func forget() { lock.withLock { unsettledNow = false } }

        func check(_ what: String) {
            lock.withLock { if unsettledNow { seen.insert(what) } }
        }

        var violations: Set<String> { lock.withLock { seen } }
        var settles: Int { lock.withLock { settled } }
    }

    /// Writes each line at once, and notes whether the lingering driver was settled whenever it is called.
    class Watchful: LogDriver {
        let recorder: RecordingDriver
        let ledger: Ledger
        let name: String

        init(db: Database, ledger: Ledger, name: String = "another driver") throws {
            recorder = try RecordingDriver(db: db)
            self.ledger = ledger
            self.name = name
        }

        func ingest(_ line: ByteLine, from source: SourceFile) throws -> LineOutcome {
            ledger.check("a line of \(name)")
            return try recorder.ingest(line, from: source)
        }

        func ingest(_ block: inout LineBlock, from source: SourceFile) throws {
            while let line = block.next() { block.record(try ingest(line, from: source)) }
        }

        func settle() throws {}
        func rollback() {}
        func flush(_ db: Database) throws { ledger.check("the flush of \(name)") }
        func tick(_ db: Database, now: Date) throws { ledger.check("the tick of \(name)") }
    }

    /// Walks each block but writes its lines only when settled (as eximstats writes rows on its
    /// helper thread after the block is gone).
    final class Lingering: Watchful {
        var waiting: [(line: String, source: SourceFile)] = []

        init(db: Database, ledger: Ledger) throws {
            try super.init(db: db, ledger: ledger, name: "the lingering driver")
        }

        override func ingest(_ block: inout LineBlock, from source: SourceFile) throws {
            while let line = block.next() {
                waiting.append((line.string, source))
                block.stored()
            }
            ledger.lingering()
        }

        override func settle() throws {
            guard ledger.settle() else { throw StoreError.sqlite(code: 13, message: "database or disk is full (test)", sql: "INSERT") }
            for (line, source) in waiting { _ = try withByteLine(line) { try recorder.ingest($0, from: source) } }
            waiting.removeAll()
        }

        override func rollback() {
            waiting.removeAll()
            ledger.forget()
        }
    }

    func engine(_ h: EngineHarness, _ a: String, _ b: String, ledger: Ledger) throws -> Engine {
        try Engine(
            settings: h.settings, database: h.openDatabase(),
            drivers: [
                (name: "lingering", configured: ConfiguredDriver(enabled: true, sources: [.file(a)]) { _, db in try Lingering(db: db, ledger: ledger) }),
                (name: "watchful", configured: ConfiguredDriver(enabled: true, sources: [.file(b)]) { _, db in try Watchful(db: db, ledger: ledger) }),
            ],
            options: EngineOptions(once: true), control: EngineControl(), logger: h.logger("TailWatch")
        ) { h.logger($0) }
    }

    /// Two logs larger than what one file is read at a time (4 MiB), so that the drivers' blocks alternate.
    /// One batch for the whole run (no commit in between settles the lingering driver).
    func logs(_ h: EngineHarness) throws -> (a: String, b: String, aLines: [String], bLines: [String]) {
        h.settings.batchIntervalMilliseconds = 600_000
        let a = h.folder.file("a.log"), b = h.folder.file("b.log")
        let aLines = (0..<100_000).map { "lingering line \($0) " + String(repeating: "a", count: 40) }
        let bLines = (0..<100_000).map { "watchful line \($0) " + String(repeating: "b", count: 40) }
        try LogWriter.append(a, aLines.joined(separator: "\n") + "\n")
        try LogWriter.append(b, bLines.joined(separator: "\n") + "\n")
        return (a, b, aLines, bLines)
    }

    @Test func workLeftRunningIsSettledBeforeAnythingElseUsesTheDatabase() throws {
        let h = EngineHarness()
        let (a, b, aLines, bLines) = try logs(h)
        let ledger = Ledger()
        _ = try engine(h, a, b, ledger: ledger).run()
        #expect(ledger.violations.isEmpty, "\(ledger.violations)")
        #expect(ledger.settles > 1)
        #expect(try h.storedLines(from: a) == aLines)
        #expect(try h.storedLines(from: b) == bLines)
    }

    @Test func aFailureOfWorkLeftRunningFailsTheBatchWhichIsReadAgain() throws {
        let h = EngineHarness()
        let (a, b, aLines, bLines) = try logs(h)
        #expect(throws: StoreError.self) { _ = try engine(h, a, b, ledger: Ledger(failingSettles: 1)).run() }
        let stored = try h.storedLines(from: a)
        #expect(stored.count < aLines.count, "the failed batch's lines are not stored")
        let ledger = Ledger()
        _ = try engine(h, a, b, ledger: ledger).run()
        #expect(ledger.violations.isEmpty, "\(ledger.violations)")
        #expect(try h.storedLines(from: a) == aLines, "each line once, after the run that failed")
        #expect(try h.storedLines(from: b) == bLines)
    }
}
