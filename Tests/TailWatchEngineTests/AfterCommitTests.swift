import Logging
import Testing
@testable import TailWatchEngine

/// The engine's transactional outbox: effects follow a commit, never a rollback, and one that
/// fails is tried again after later commits until it works or a newer one replaces it.
@Suite struct AfterCommitTests {
    private struct Refused: Error {}

    @Test func effectsRunAfterTheCommitInTheOrderTheyWereRegistered() {
        let outbox = AfterCommit(logger: Logger(label: "test"))
        var ran: [String] = []
        outbox.add("a") { ran.append("a") }
        outbox.add("b") { ran.append("b") }
        #expect(ran.isEmpty, "nothing runs before the commit")
        outbox.committed()
        #expect(ran == ["a", "b"])
        outbox.committed()
        #expect(ran == ["a", "b"], "an effect runs once")
        #expect(outbox.count == 0)
    }

    @Test func aRollbackDropsItsEffectsAndTellsTheirOwners() {
        let outbox = AfterCommit(logger: Logger(label: "test"))
        var ran = 0, dropped = 0
        outbox.add("x", ifDropped: { dropped += 1 }) { ran += 1 }
        outbox.rolledBack()
        outbox.committed()
        #expect(ran == 0)
        #expect(dropped == 1)
    }

    @Test func aFailingEffectIsRetriedAfterLaterCommitsAndSurvivesARollback() {
        let outbox = AfterCommit(logger: Logger(label: "test"))
        var attempts = 0
        outbox.add("flaky") {
            attempts += 1
            if attempts < 3 { throw Refused() }
        }
        outbox.committed()
        #expect(attempts == 1 && outbox.count == 1)
        // It was committed: a later transaction's rollback does not take it back.
        outbox.rolledBack()
        outbox.committed()
        #expect(attempts == 2)
        outbox.committed()
        #expect(attempts == 3 && outbox.count == 0)
        outbox.committed()
        #expect(attempts == 3)
    }

    @Test func cancellingByKeyForgetsStagedAndFailingEffectsWithoutRunningThem() {
        let outbox = AfterCommit(logger: Logger(label: "test"))
        var ran: [String] = []
        var dropped = 0
        outbox.add("old marker", key: "markers.a") {
            ran.append("a")
            throw Refused()
        }
        outbox.committed()
        outbox.add("marker b", key: "markers.b", ifDropped: { dropped += 1 }) { ran.append("b") }
        outbox.add("notice") { ran.append("notice") }
        outbox.cancel { $0.hasPrefix("markers.") }
        outbox.committed()
        #expect(ran == ["a", "notice"], "the failing a and the staged b are gone; the unkeyed notice runs")
        #expect(dropped == 0, "cancelled, not rolled back")
        #expect(outbox.count == 0)
    }

    @Test func aNewerEffectWithTheSameKeyReplacesAStagedOrFailingOne() {
        let outbox = AfterCommit(logger: Logger(label: "test"))
        var written: [Int] = []
        var diskFull = true
        outbox.add("export", key: "whitelist") {
            if diskFull { throw Refused() }
            written.append(1)
        }
        outbox.committed()
        #expect(written.isEmpty && outbox.count == 1)
        diskFull = false
        outbox.add("export", key: "whitelist") { written.append(2) }
        outbox.add("export", key: "whitelist") { written.append(3) }
        outbox.committed()
        #expect(written == [3], "only the newest whitelist is written")
        #expect(outbox.count == 0)
    }
}
