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

    /// How long commits took since the engine started, in Prometheus' cumulative form.
    public struct CommitDurations: Sendable, Equatable {
        /// Upper bounds in seconds; `counts[i]` commits took at most `bounds[i]`.
        public static let bounds: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
        public var counts = [UInt64](repeating: 0, count: bounds.count)
        public var total: UInt64 = 0
        public var sumSeconds: Double = 0

        mutating func record(_ seconds: Double) {
            for (i, bound) in Self.bounds.enumerated() where seconds <= bound { counts[i] += 1 }
            total += 1
            sumSeconds += seconds
        }
    }

    private struct Board {
        var drivers: [Driver] = []
        var failing: (since: Date, reason: String)?
        var commits = CommitDurations()
    }

    /// When the engine started (a driver that never committed is judged from here).
    public let startedAt = Date()
    private let board = Mutex(Board())

    public init() {}

    public var snapshot: (drivers: [Driver], failingSince: Date?, failure: String?) {
        board.withLock { ($0.drivers, $0.failing?.since, $0.failing?.reason) }
    }

    /// The commit durations recorded so far (the web page's `/metrics`).
    public var commitDurations: CommitDurations { board.withLock { $0.commits } }

    func recordCommit(seconds: Double) {
        board.withLock { $0.commits.record(seconds) }
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
