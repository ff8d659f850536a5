import Foundation
import Synchronization

/// Keys of work still running (a service being checked), for the whole life of the process.
///
/// Why: a check blocked on a slow service cannot be interrupted, and it may outlive its round (the
/// round is abandoned as hung) or its configuration (a reload starts new timed work). Whoever
/// starts the same work again must see that it is still running, or a service would be checked,
/// and maybe restarted, twice at once. The supervisor owns one and hands it to every configuration.
public final class WorkLeases: Sendable {
    private let held = Mutex(Set<String>())

    public init() {}

    /// Takes `key` if nobody holds it; false while earlier work still does.
    public func take(_ key: String) -> Bool {
        held.withLock { $0.insert(key).inserted }
    }

    /// The work of `key` has finished.
    public func release(_ key: String) {
        _ = held.withLock { $0.remove(key) }
    }

    public func isHeld(_ key: String) -> Bool {
        held.withLock { $0.contains(key) }
    }

    /// Waits up to `seconds` for all work to finish; the keys still held then.
    func waitForAll(seconds: Double) -> [String] {
        let deadline = Deadline.after(seconds: seconds)
        while !deadline.hasPassed {
            if held.withLock({ $0.isEmpty }) { return [] }
            usleep(20_000)
        }
        return held.withLock { $0.sorted() }
    }
}
