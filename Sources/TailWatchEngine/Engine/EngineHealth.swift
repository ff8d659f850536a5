import Foundation

/// How each driver of a running engine is doing, as the engine last saw it: for a driver that
/// watches the others (chkservd's `tailwatchd` pseudo-service) and, through it, the operator.
///
/// Why a board and not a query: "falling behind" is the distance between a file's size and the
/// position read so far, which only the engine knows between commits; and a driver must not reach
/// into another driver. The engine writes it about once a second, before the drivers' ticks.
public final class EngineHealth: @unchecked Sendable {
    public struct Driver: Sendable, Equatable {
        public var name: String
        /// Files it tails now (0 for a timer driver).
        public var files: Int
        /// Bytes written to its logs and not yet read.
        public var bytesBehind: Int64
        public var lastCommit: Date?
    }

    /// When the engine started (a driver that never committed is judged from here).
    public let startedAt = Date()
    private let lock = NSLock()
    private var drivers: [Driver] = []
    private var failing: (since: Date, reason: String)?

    public init() {}

    public var snapshot: (drivers: [Driver], failingSince: Date?, failure: String?) {
        lock.withLock { (drivers, failing?.since, failing?.reason) }
    }

    func update(_ drivers: [Driver]) {
        lock.withLock { self.drivers = drivers }
    }

    func commitFailed(_ reason: String) {
        lock.withLock { if failing == nil { failing = (Date(), reason) } else { failing?.reason = reason } }
    }

    func commitSucceeded() {
        lock.withLock { failing = nil }
    }
}
