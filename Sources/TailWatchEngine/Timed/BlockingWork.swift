import Foundation
import Synchronization

/// Blocking work (a socket probe that waits up to its timeout, a restart command) awaited from a
/// task without blocking Swift's cooperative threads.
///
/// Why a thread of its own: the cooperative pool has one thread per core (two here); a check that
/// waits a minute on a hung service would hold one of them and stall every task. The work runs on
/// a new thread; the awaiting task gets its result, or nil as soon as it is cancelled (a round
/// abandoned, a reload, a stop). The work cannot be interrupted and carries on: it must have
/// timeouts of its own and record what it did itself.
public enum BlockingWork {
    public static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () -> T) async -> T? {
        let handoff = Handoff<T>()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
                guard handoff.wait(continuation) else { return }
                let thread = Thread {
                    handoff.deliver(body())
                }
                thread.name = name
                thread.start()
            }
        } onCancel: {
            handoff.deliver(nil)
        }
    }

    /// Resumes the awaiting task once: with the result, or with nil at a cancellation, whichever
    /// comes first.
    private final class Handoff<T: Sendable>: Sendable {
        private enum State {
            case waiting
            case awaiting(CheckedContinuation<T?, Never>)
            case cancelledEarly
            case done
        }
        private let state = Mutex(State.waiting)

        /// False when the task was cancelled before it started waiting (the continuation is
        /// then resumed here and the work is not started).
        func wait(_ continuation: CheckedContinuation<T?, Never>) -> Bool {
            let start: Bool = state.withLock {
                if case .cancelledEarly = $0 { $0 = .done; return false }
                $0 = .awaiting(continuation)
                return true
            }
            if !start { continuation.resume(returning: nil) }
            return start
        }

        func deliver(_ value: T?) {
            let continuation: CheckedContinuation<T?, Never>? = state.withLock {
                switch $0 {
                case .awaiting(let c):
                    $0 = .done
                    return c
                case .waiting:
                    if value == nil { $0 = .cancelledEarly }
                    return nil
                case .cancelledEarly, .done:
                    return nil
                }
            }
            continuation?.resume(returning: value)
        }
    }
}
