import Foundation
import Synchronization

/// How each driver of a running engine is doing, as the engine last saw it: for a driver that
/// watches the others (chkservd's `tailwatchd` pseudo-service) and, through it, the operator.
///
/// Why a board and not a query: "falling behind" is the distance between a file's size and the
/// position read so far, which only the engine knows between commits; and a driver must not reach
/// into another driver. The engine writes it about once a second, before the drivers' ticks.
public final class EngineHealth: Sendable {
    public struct Driver: Sendable, Equatable {
        public var name: String
        /// Files it tails now.
        public var files: Int
        /// Bytes written to its logs and not yet read.
        public var bytesBehind: Int64
        public var lastCommit: Date?
    }

    private struct Board {
        var drivers: [Driver] = []
        var failing: (since: Date, reason: String)?
    }

    /// When the engine started (a driver that never committed is judged from here).
    public let startedAt = Date()
    private let board = Mutex(Board())

    public init() {}

    public var snapshot: (drivers: [Driver], failingSince: Date?, failure: String?) {
        board.withLock { ($0.drivers, $0.failing?.since, $0.failing?.reason) }
    }

    func update(_ drivers: [Driver]) {
        board.withLock { $0.drivers = drivers }
    }

    func commitFailed(_ reason: String) {
        board.withLock { if $0.failing == nil { $0.failing = (Date(), reason) } else { $0.failing?.reason = reason } }
    }

    func commitSucceeded() {
        board.withLock { $0.failing = nil }
    }
}
