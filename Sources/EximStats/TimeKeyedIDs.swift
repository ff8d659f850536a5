/// Row ids that sort by time: `time << 20 | sequence`, so that the rowid B-tree answers time ranges
/// and retention purges and no second index on `time` has to be kept up to date per row.
///
/// The sequence runs on across seconds and wraps at 2^20; it starts after the highest id in use, so
/// rows of the second a restart resumes in do not collide with the rows committed before it. A
/// collision (possible only after 2^20 rows of one second, or with lines far out of order) is
/// resolved by the writer taking the next number.
struct TimeKeyedIDs {
    static let sequenceBits: Int64 = 20
    static let sequenceMask: Int64 = (1 << sequenceBits) - 1

    private var sequence: Int64

    /// `highestInUse`: the largest id already in the tables (nil for none).
    init(highestInUse: Int64?) {
        sequence = (highestInUse ?? -1) & Self.sequenceMask
    }

    @inline(__always) mutating func next(for time: Int64) -> Int64 {
        sequence = (sequence + 1) & Self.sequenceMask
        return time << Self.sequenceBits | sequence
    }

    /// The ids of rows with `from <= time < to`, as a half-open range.
    static func range(from: Int64, to: Int64) -> (lower: Int64, upper: Int64) {
        (clamp(from) << sequenceBits, clamp(to) << sequenceBits)
    }

    /// Keeps `time << 20` within Int64 for the open ends of report ranges.
    static func clamp(_ time: Int64) -> Int64 {
        min(max(time, -(1 << 42)), 1 << 42)
    }
}
