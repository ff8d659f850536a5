/// A moment on the monotonic clock, for timeouts, back-off and rate limits.
///
/// Why not `Date`: the wall clock can be stepped (NTP at boot, an operator's `date -s`); a timeout
/// measured on it could fire at once or never. Wall-clock time is only for what is stamped into
/// rows and logs.
public struct Deadline: Sendable, Comparable {
    public let instant: ContinuousClock.Instant

    public init(_ instant: ContinuousClock.Instant) { self.instant = instant }

    /// `seconds` from now.
    public static func after(seconds: Double) -> Deadline {
        Deadline(ContinuousClock.now.advanced(by: .seconds(seconds)))
    }

    public static var now: Deadline { Deadline(ContinuousClock.now) }

    /// Long passed: for "never happened yet".
    public static var distantPast: Deadline { after(seconds: -1e9) }

    public var hasPassed: Bool { ContinuousClock.now >= instant }

    /// Seconds until the deadline; negative once it has passed.
    public var secondsLeft: Double { (instant - ContinuousClock.now) / .seconds(1) }

    /// Seconds since this moment (for a moment in the past: how long ago).
    public var secondsAgo: Double { -secondsLeft }

    public static func < (a: Deadline, b: Deadline) -> Bool { a.instant < b.instant }
}
