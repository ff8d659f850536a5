import Foundation
import Logging
import Synchronization

/// The one way a driver runs an operator's command (`notify_command` and the like): off the
/// engine's thread, at most four at a time and 10,000 waiting (`CommandQueue`), each through
/// `BoundedCommand` (its own process group, killed at its timeout, output bounded), a failure
/// logged in one form, and everything still queued seen through when the engine stops: a limit
/// reached is recorded once, so a notification dropped at exit would never be sent.
///
/// Why not swift-subprocess (1.0.2 is in the mirror): its API is async and every caller here is a
/// plain thread (the engine's, a service check's); `BoundedCommand` already does what an
/// operator's hook needs (a process group, the kill, bounded output, a child that keeps the pipe
/// open), so a second process library would add a dependency and change nothing an operator sees.
public final class CommandRunner: Sendable {
    private let queue: CommandQueue
    private let logger: Logger
    private let longest = Mutex(0.0)

    public init(logger: Logger, workers: Int = 4, capacity: Int = 10_000) {
        self.queue = CommandQueue(workers: workers, capacity: capacity)
        self.logger = logger
    }

    /// Queues `executable` with `arguments`; `what` names it in the log ("send limits: notify_command
    /// for example.com"). Returns false when the queue was full and the command was dropped (logged).
    @discardableResult
    public func run(_ executable: String, _ arguments: [String], timeout: Double, what: String) -> Bool {
        longest.withLock { $0 = max($0, timeout) }
        let logger = self.logger
        let queued = queue.submit {
            do {
                let result = try BoundedCommand.run(executable: executable, arguments: arguments, timeout: timeout, outputLimit: 512)
                if !result.succeeded {
                    let why = result.timedOut ? "timed out after \(Int(timeout)) s and was stopped" : "exit status \(result.exitStatus.map(String.init) ?? "signal")"
                    logger.warning("\(what): \(executable) \(why)")
                }
            } catch {
                logger.error("\(what): cannot run \(executable): \(error)")
            }
        }
        if !queued { logger.error("\(what): more than 10,000 commands waiting; this one was dropped") }
        return queued
    }

    /// Waits for every queued command, up to the longest timeout given plus 5 s; true when none is left.
    @discardableResult
    public func drain() -> Bool {
        queue.drain(seconds: longest.withLock { $0 } + 5)
    }
}
