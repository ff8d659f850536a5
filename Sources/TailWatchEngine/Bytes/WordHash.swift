/// A dictionary hash for keys made of a few machine words (ids, packed message ids), without
/// `Hasher`.
///
/// Why: the eximstats apply step looks up a message's sender and an hour's sums for nearly every
/// line, on the engine's thread; `Hasher` (SipHash-1-3, seeded per call) was 3 % of a catch-up's
/// CPU there, for keys that are already well-spread words. A key implements Swift's
/// `_rawHashValue(seed:)` with `combine`/`finish`, which `Dictionary` calls instead of `hash(into:)`,
/// and still gets each dictionary's own seed (so one dictionary's collisions are not another's).
public struct WordHash {
    private var state: UInt64

    @inline(__always) public init(seed: Int) {
        state = UInt64(UInt(bitPattern: seed)) ^ 0x9E37_79B9_7F4A_7C15
    }

    /// Folds one word in: a multiply that spreads every bit of it over the high half, then a shift
    /// that brings those back down (the table takes the low bits).
    @inline(__always) public mutating func combine(_ word: UInt64) {
        state = (state ^ word) &* 0xBF58_476D_1CE4_E5B9
        state ^= state >> 31
    }

    /// The hash: the state's bits mixed once more (the finaliser of MurmurHash3's 64-bit variant).
    @inline(__always) public func finish() -> Int {
        var h = state
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h = h &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return Int(bitPattern: UInt(h))
    }
}
