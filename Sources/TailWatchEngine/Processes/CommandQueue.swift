import Foundation

/// Runs notification commands off the engine's thread: at most `workers` at a time, at most
/// `capacity` waiting (beyond that a job is dropped and counted, never a thread per job), and
/// `drain(seconds:)` lets a driver see its queue through before the process stops — a limit reached
/// is recorded once, so a notification dropped at exit would never be sent.
/// Unchecked: the job list and counts are under `lock`, and waiting for idle uses `idle`, an
/// NSCondition (a Mutex cannot be waited on).
final class CommandQueue: @unchecked Sendable {
    private let lock = NSLock()
    private let workers: Int
    private let capacity: Int
    private var jobs: [@Sendable () -> Void] = []
    private var running = 0
    private let idle = NSCondition()
    private(set) var dropped = 0

    init(workers: Int = 4, capacity: Int = 10_000) {
        self.workers = workers
        self.capacity = capacity
    }

    /// Queues `job`; false when the queue is full and it was dropped.
    @discardableResult
    func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        let start: Bool = lock.withLock {
            guard jobs.count < capacity else {
                dropped += 1
                return false
            }
            jobs.append(job)
            guard running < workers else { return false }
            running += 1
            return true
        }
        if start {
            let worker = Thread { [self] in work() }
            worker.name = "notifications"
            worker.start()
        }
        return true
    }

    private func work() {
        while true {
            let next: (@Sendable () -> Void)? = lock.withLock {
                if jobs.isEmpty {
                    running -= 1
                    return nil
                }
                return jobs.removeFirst()
            }
            guard let next else {
                idle.lock()
                idle.broadcast()
                idle.unlock()
                return
            }
            next()
        }
    }

    /// Waits until every queued job ran or `seconds` passed; true when the queue is empty.
    @discardableResult
    func drain(seconds: Double) -> Bool {
        let deadline = Deadline.after(seconds: seconds)
        idle.lock()
        defer { idle.unlock() }
        while lock.withLock({ !jobs.isEmpty || running > 0 }) {
            if !idle.wait(until: Date().addingTimeInterval(min(0.1, max(0, deadline.secondsLeft)))), deadline.hasPassed { break }
        }
        return lock.withLock { jobs.isEmpty && running == 0 }
    }
}
