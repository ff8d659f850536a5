/// A batch's byte and request sums per `BandwidthKey`, in an open-addressing table with a
/// multiplicative hash.
///
/// Why not a `Dictionary`: it is looked up once per log line, and Swift's seeded SipHash was 15% of
/// the driver's time; the keys are four small integers that a multiply mixes well enough.
struct BandwidthSums {
    private var keys: [BandwidthKey] = []
    private var bytes: [Int64] = []
    private var hits: [Int64] = []
    private var slots: [Int32]
    private var mask: Int

    init(capacity: Int = 4096) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: -1, count: size)
        mask = size - 1
    }

    var isEmpty: Bool { keys.isEmpty }

    @inline(__always) private static func hash(_ k: BandwidthKey) -> Int {
        let a = UInt64(UInt32(bitPattern: k.user)) << 32 | UInt64(UInt32(bitPattern: k.domain))
        let b = UInt64(bitPattern: k.bucket) << 2 | UInt64(k.protocolIndex)
        let h = (a &* 0x9E37_79B9_7F4A_7C15) ^ (b &* 0xC2B2_AE3D_27D4_EB4F)
        return Int(truncatingIfNeeded: h ^ (h >> 31))
    }

    /// Adds to `key`'s sums; returns where they are kept, for `add(at:bytes:)` (valid until `removeAll`).
    @discardableResult
    @inline(__always) mutating func add(_ key: BandwidthKey, bytes amount: Int64, hits count: Int64 = 1) -> Int {
        var slot = Self.hash(key) & mask
        while true {
            let index = slots[slot]
            if index < 0 { break }
            if keys[Int(index)] == key {
                bytes[Int(index)] &+= amount
                hits[Int(index)] &+= count
                return Int(index)
            }
            slot = (slot + 1) & mask
        }
        slots[slot] = Int32(keys.count)
        keys.append(key)
        bytes.append(amount)
        hits.append(count)
        if keys.count * 2 > slots.count { grow() }
        return keys.count - 1
    }

    /// Adds one request's bytes to the key kept at `index` (from `add`), without looking it up.
    @inline(__always) mutating func add(at index: Int, bytes amount: Int64) {
        bytes[index] &+= amount
        hits[index] &+= 1
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = Array(repeating: -1, count: size)
        mask = size - 1
        for (index, key) in keys.enumerated() {
            var slot = Self.hash(key) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index)
        }
    }

    /// Adds every key of `other` with its sums, its bucket rounded down to a multiple of `step`
    /// seconds (3600: the hour it lies in).
    mutating func add(_ other: BandwidthSums, roundedTo step: Int64) {
        for i in other.keys.indices {
            var key = other.keys[i]
            key.bucket = BandwidthWriter.floor(key.bucket, step)
            add(key, bytes: other.bytes[i], hits: other.hits[i])
        }
    }

    /// Takes out the keys `moving` selects, with their sums, and returns them; the rest stay.
    mutating func remove(where moving: (BandwidthKey) -> Bool) -> BandwidthSums {
        var kept = BandwidthSums(capacity: keys.count)
        var removed = BandwidthSums(capacity: keys.count)
        for i in keys.indices {
            if moving(keys[i]) {
                removed.add(keys[i], bytes: bytes[i], hits: hits[i])
            } else {
                kept.add(keys[i], bytes: bytes[i], hits: hits[i])
            }
        }
        self = kept
        return removed
    }

    mutating func removeAll() {
        guard !keys.isEmpty else { return }
        keys.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
        hits.removeAll(keepingCapacity: true)
        for i in slots.indices { slots[i] = -1 }
    }

    /// Every key with its sums.
    func forEach(_ body: (BandwidthKey, Int64, Int64) throws -> Void) rethrows {
        for i in keys.indices { try body(keys[i], bytes[i], hits[i]) }
    }

    var allKeys: [BandwidthKey] { keys }
    func bytes(at index: Int) -> Int64 { bytes[index] }
    func hits(at index: Int) -> Int64 { hits[index] }
}
