/// 64-bit FNV-1a: the hash behind file fingerprints and the tail checksum of a checkpoint.
///
/// Why this one: it is tiny, has no dependencies, and only ever runs over at most a few kilobytes
/// per commit (never per line), where its speed does not matter but its stability across builds does.
public struct FNV1a: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func combine(_ bytes: UnsafeRawBufferPointer) {
        var h = value
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        value = h
    }

    public static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h = FNV1a()
        h.combine(bytes)
        return h.value
    }

    public static func hash(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { hash($0) }
    }
}
