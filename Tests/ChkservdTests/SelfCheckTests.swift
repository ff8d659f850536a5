import Foundation
import Testing
@testable import Chkservd
@testable import TailWatchEngine

/// The `tailwatchd` pseudo-service: down when a log driver falls behind or commits keep failing.
@Suite struct SelfCheckTests {
    @Test func behindOrFailingIsDown() {
        let health = EngineHealth()
        let now = Date()
        health.update([
            .init(name: "eximstats", files: 1, bytesBehind: 1000, lastCommit: now),
            .init(name: "cpbandwd", files: 40, bytesBehind: 0, lastCommit: now),
        ])
        var result = SelfCheck.check(health, maxBehind: 1 << 20, now: now)
        #expect(result.ok && result.parts == ["eximstats:+", "cpbandwd:+"])

        health.update([.init(name: "eximstats", files: 1, bytesBehind: 3 << 20, lastCommit: now)])
        result = SelfCheck.check(health, maxBehind: 1 << 20, now: now)
        #expect(!result.ok && result.parts == ["eximstats:-"] && result.detail.contains("eximstats is 3.0 MiB behind"))

        health.update([.init(name: "eximstats", files: 1, bytesBehind: 0, lastCommit: now)])
        health.commitFailed("disk I/O error")
        #expect(SelfCheck.check(health, maxBehind: 1 << 20, now: now).ok, "a moment's failure is retried, not an outage")
        result = SelfCheck.check(health, maxBehind: 1 << 20, now: now.addingTimeInterval(61))
        #expect(!result.ok && result.detail.contains("disk I/O error"))
        health.commitSucceeded()
        #expect(SelfCheck.check(health, maxBehind: 1 << 20, now: now.addingTimeInterval(120)).ok)

        // An unfinished last line waiting for good is no stall...
        health.update([.init(name: "eximstats", files: 1, bytesBehind: 500, lastCommit: now)])
        #expect(SelfCheck.check(health, maxBehind: 1 << 20, now: now.addingTimeInterval(700)).ok)
        // ...lines waiting and nothing committed for ten minutes is.
        health.update([.init(name: "eximstats", files: 1, bytesBehind: 100_000, lastCommit: now)])
        #expect(SelfCheck.check(health, maxBehind: 1 << 20, now: now.addingTimeInterval(300)).ok)
        result = SelfCheck.check(health, maxBehind: 1 << 20, now: now.addingTimeInterval(700))
        #expect(!result.ok && result.detail.contains("committed nothing for 700 s"))
        #expect(!SelfCheck.check(health, maxBehind: 1 << 20, now: now.addingTimeInterval(700)).ok)
    }
}
