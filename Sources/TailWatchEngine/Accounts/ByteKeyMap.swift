/// A hash map from byte strings (compared ASCII-case-insensitively) to small values, looked up
/// straight from a `ByteLine` without building a `String`.
///
/// Why: the drivers look up a domain or user for almost every line; a `Dictionary<String, _>`
/// lookup would first allocate a `String` from the line's bytes.
public struct ByteKeyMap<Value> {
    /// Every key's bytes, one after the other; `starts[i]..<starts[i + 1]` is key `i`.
    private var arena: [UInt8] = []
    private var starts: [Int] = [0]
    private var hashes: [Int] = []
    private var values: [Value] = []
    private var slots: [Int32]
    private var mask: Int
    /// Drawn once per process (`hashSeed`): names come from the logs (sender domains, vhosts), and
    /// with a hash anyone could compute, crafted names could all land in one chain.
    private let seed = hashSeed

    public init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: -1, count: size)
        mask = size - 1
    }

    public var count: Int { values.count }

    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { b &- 0x41 < 26 ? b | 0x20 : b }

    /// Eight bytes at a time, each OR-ed with 0x20: that folds ASCII case (and, harmlessly, a few
    /// other pairs of bytes, which only means an extra comparison; `equal` folds exactly).
    @inline(__always) static func hash(_ line: ByteLine, seed: UInt64) -> Int {
        var h: UInt64 = (0xcbf2_9ce4_8422_2325 ^ seed) ^ UInt64(line.count)
        var i = 0
        let raw = UnsafeRawPointer(line.base)
        while i + 8 <= line.count {
            let word = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) | 0x2020_2020_2020_2020
            h = (h ^ word) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
            i += 8
        }
        if i < line.count {
            // The last bytes: as the final eight (overlapping words already hashed) when the key
            // is that long, else byte by byte.
            var tail: UInt64 = 0
            if line.count >= 8 {
                tail = raw.loadUnaligned(fromByteOffset: line.count - 8, as: UInt64.self) | 0x2020_2020_2020_2020
            } else {
                var shift: UInt64 = 0
                while i < line.count {
                    tail |= UInt64(line[i] | 0x20) << shift
                    shift += 8
                    i += 1
                }
            }
            h ^= tail
        }
        // MurmurHash3's finaliser: every input bit reaches the low bits the table uses.
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h = h &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return Int(truncatingIfNeeded: h)
    }

    /// Key `index` equals `line`: the exact bytes first, else folding ASCII case.
    @inline(__always) private func equal(_ index: Int, _ line: ByteLine) -> Bool {
        let from = starts[index]
        guard starts[index + 1] - from == line.count else { return false }
        return arena.withUnsafeBufferPointer { buffer in
            let key = buffer.baseAddress! + from
            if Self.same(key, line.base, line.count) { return true }
            for i in 0..<line.count where Self.lower(key[i]) != Self.lower(line[i]) { return false }
            return true
        }
    }

    /// Exact equality, eight bytes at a time (names are short: a call to `memcmp` costs more).
    @inline(__always) private static func same(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var i = 0
        while i + 8 <= count {
            if ra.loadUnaligned(fromByteOffset: i, as: UInt64.self) != rb.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
            i += 8
        }
        while i < count {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
    }

    /// The slot holding `line`'s key, or the empty slot where it would go.
    @inline(__always) private func slot(of line: ByteLine, hash: Int) -> (slot: Int, index: Int32) {
        var slot = hash & mask
        while true {
            let index = slots[slot]
            if index < 0 || (hashes[Int(index)] == hash && equal(Int(index), line)) { return (slot, index) }
            slot = (slot + 1) & mask
        }
    }

    /// The value stored for these bytes.
    @inline(__always) public func value(for line: ByteLine) -> Value? {
        let found = slot(of: line, hash: Self.hash(line, seed: seed)).index
        return found < 0 ? nil : values[Int(found)]
    }

    public func value(for key: String) -> Value? {
        withByteLine(key) { value(for: $0) }
    }

    /// Sets the value for `key` (replacing an earlier one).
    public mutating func set(_ value: Value, for key: String) {
        withByteLine(key) { set(value, for: $0) }
    }

    /// Sets the value for these exact bytes (copied), also when they are not valid UTF-8.
    public mutating func set(_ value: Value, for line: ByteLine) {
        let hash = Self.hash(line, seed: seed)
        let (slot, index) = slot(of: line, hash: hash)
        if index >= 0 {
            values[Int(index)] = value
            return
        }
        slots[slot] = Int32(values.count)
        arena.append(contentsOf: UnsafeBufferPointer(start: line.base, count: line.count))
        starts.append(arena.count)
        hashes.append(hash)
        values.append(value)
        if values.count * 2 > slots.count { grow() }
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = Array(repeating: -1, count: size)
        mask = size - 1
        for (index, hash) in hashes.enumerated() {
            var slot = hash & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index)
        }
    }
}

/// The seed of every `ByteKeyMap` hash in this process, from the system's random source.
let hashSeed = UInt64.random(in: .min ... .max)
