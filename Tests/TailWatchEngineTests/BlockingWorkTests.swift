import Foundation
import Synchronization
import Testing
import TailWatchEngine

/// Blocking work awaited from a task: its result comes back; a cancelled task stops waiting at
/// once while the work itself runs to its end.
@Suite struct BlockingWorkTests {
    /// Each work waits for the other to have started: run one after the other (or on threads
    /// the other needs), the first would give up after 10 s and answer false.
    @Test func resultsComeBackAndBlockingWorksRunSideBySide() async {
        let a = DispatchSemaphore(value: 0), b = DispatchSemaphore(value: 0)
        async let first = BlockingWork.run(name: "first") { () -> Bool in
            a.signal()
            return b.wait(timeout: .now() + 10) == .success
        }
        async let second = BlockingWork.run(name: "second") { () -> Bool in
            b.signal()
            return a.wait(timeout: .now() + 10) == .success
        }
        let results = await [first, second]
        #expect(results == [true, true])
    }

    /// The work blocks until the test lets it go, which it does only after the cancelled wait
    /// has returned: had the wait not ended at the cancellation, the test would hang.
    @Test func aCancelledWaitReturnsNilAtOnceAndTheWorkRunsOn() async {
        let release = DispatchSemaphore(value: 0)
        let finished = Flag()
        let task = Task {
            await BlockingWork.run(name: "slow") { () -> Int in
                release.wait()
                finished.set()
                return 1
            }
        }
        try? await Task.sleep(for: .milliseconds(50))
        task.cancel()
        #expect(await task.value == nil)
        #expect(!finished.isSet)
        release.signal()
        #expect(await awaitFlag(finished), "the work ran to its end")
    }

    @Test func aTaskCancelledBeforeItWaitsNeverStartsTheWork() async {
        let ran = Flag()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await BlockingWork.run(name: "never") { () -> Int in
                ran.set()
                return 1
            }
        }
        #expect(await task.value == nil)
        try? await Task.sleep(for: .milliseconds(100))
        #expect(!ran.isSet)
    }

    private func awaitFlag(_ flag: Flag) async -> Bool {
        for _ in 0..<250 where !flag.isSet { try? await Task.sleep(for: .milliseconds(20)) }
        return flag.isSet
    }

    final class Flag: Sendable {
        private let value = Atomic<Bool>(false)
        func set() { value.store(true, ordering: .releasing) }
        var isSet: Bool { value.load(ordering: .acquiring) }
    }
}
