import TailWatchEngine

/// A Bloom filter over 64-bit keys: "maybe present" or "certainly absent", in a fixed number of bits.
///
/// Why: `SearchBlocks` keeps one per field per block of mail rows, so that a search skips every
/// block that cannot hold what it looks for without an index entry per row. The layout is stored
/// in the database, so the hashing is fixed (no per-process seed): keys are ids the driver made
/// and message ids; a crafted message id can at worst make a search scan one more block.
struct BloomFilter: Equatable {
    private(set) var words: [UInt64]
    static let probes = 7

    /// `bits`: a power of two, at least 64.
    init(bits: Int) {
        precondition(bits >= 64 && bits & (bits - 1) == 0, "a Bloom filter has a power-of-two number of bits")
        words = [UInt64](repeating: 0, count: bits / 64)
    }

    /// A filter as `bytes` stored it (little-endian words); nil when the length is not a power of two.
    init?(bytes: [UInt8]) {
        guard bytes.count >= 8, bytes.count & (bytes.count - 1) == 0 else { return nil }
        words = stride(from: 0, to: bytes.count, by: 8).map { i in
            var w: UInt64 = 0
            for k in 0..<8 { w |= UInt64(bytes[i + k]) << (8 * UInt64(k)) }
            return w
        }
    }

    var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(words.count * 8)
        for w in words { for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: w >> (8 * UInt64(k)))) } }
        return out
    }

    @inline(__always) mutating func insert(_ key: UInt64) {
        let mask = UInt64(words.count * 64 - 1)
        var h = key
        let step = (key >> 32) | 1
        for _ in 0..<Self.probes {
            let bit = h & mask
            words[Int(bit >> 6)] |= 1 << (bit & 63)
            h &+= step
        }
    }

    @inline(__always) func mayContain(_ key: UInt64) -> Bool {
        let mask = UInt64(words.count * 64 - 1)
        var h = key
        let step = (key >> 32) | 1
        for _ in 0..<Self.probes {
            let bit = h & mask
            if words[Int(bit >> 6)] & (1 << (bit & 63)) == 0 { return false }
            h &+= step
        }
        return true
    }

    /// `mayContain` on a filter as stored (`bytes`), without decoding it.
    @inline(__always) static func mayContain(_ key: UInt64, stored bytes: UnsafeRawBufferPointer) -> Bool {
        // A filter of the wrong size was damaged: the block is scanned rather than skipped.
        guard bytes.count >= 8, bytes.count & (bytes.count - 1) == 0 else { return true }
        let mask = UInt64(bytes.count * 8 - 1)
        var h = key
        let step = (key >> 32) | 1
        for _ in 0..<probes {
            let bit = h & mask
            if bytes[Int(bit >> 3)] & (1 << UInt8(bit & 7)) == 0 { return false }
            h &+= step
        }
        return true
    }

    mutating func removeAll() {
        for i in words.indices { words[i] = 0 }
    }
}

/// The keys `SearchBlocks` files rows under: a name id with what it is (a sender's and a
/// recipient's domain may have the same id), an address's text, or a message id, mixed to 64
/// well-spread bits.
enum SearchKey {
    static let senderDomain: UInt64 = 2, recipientDomain: UInt64 = 4
    static let user: UInt64 = 5, message: UInt64 = 6

    @inline(__always) static func name(_ id: Int64, _ kind: UInt64) -> UInt64 {
        mix(UInt64(bitPattern: id) ^ (kind &* 0x9E37_79B9_7F4A_7C15))
    }

    /// An address, as text (addresses are not in `mail_names`): its bytes with ASCII case folded,
    /// so a search typed in any case finds it.
    @inline(__always) static func address(_ bytes: ByteLine) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in 0..<bytes.count {
            let b = bytes[i]
            h = (h ^ UInt64(b &- 0x41 < 26 ? b | 0x20 : b)) &* 0x0000_0100_0000_01B3
        }
        return mix(h ^ UInt64(bytes.count))
    }

    @inline(__always) static func message(_ key: MessageKey) -> UInt64 {
        mix(key.a ^ mix(key.b ^ mix(key.c ^ message)))
    }

    /// SplitMix64's finaliser.
    @inline(__always) static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
