import TailWatchEngine

/// An exim message id packed into three integers: a dictionary key that costs no allocation.
///
/// Both formats fit: the 16-character one (`1RJ3Pa-0001AA-HC`) and the 23-character one of
/// exim 4.97+ (`10HmaX-000000005vi-0000`).
public struct MessageKey: Hashable, Sendable {
    let a: UInt64
    let b: UInt64
    let c: UInt64

    /// `id` must be 16 or 23 bytes long.
    @inline(__always) init(_ id: ByteLine) {
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &words) { raw in
            raw.copyMemory(from: UnsafeRawBufferPointer(start: id.base, count: min(id.count, 24)))
        }
        a = words.0
        b = words.1
        c = words.2
    }
}

extension MessageKey {
    /// `Dictionary`'s hash of the key, without `Hasher` (see `WordHash`). Equality stays the
    /// synthesised one, over all three words.
    @inline(__always) public func _rawHashValue(seed: Int) -> Int {
        var h = WordHash(seed: seed)
        h.combine(a)
        h.combine(b)
        h.combine(c)
        return h.finish()
    }
}
