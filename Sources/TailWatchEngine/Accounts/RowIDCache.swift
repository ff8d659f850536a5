/// Names (exact bytes, ASCII case folded) → the database row ids a driver stored them under,
/// bounded in size.
///
/// Why a type in the engine and not `ByteKeyMap<Int64>` in the driver: a generic map used from
/// another module is not specialised there, and every lookup paid for metadata and copies. This
/// one is concrete, so a lookup from a driver's hot path costs a hash and a comparison.
public final class RowIDCache {
    // Read for every name of every row; written only between reads.
    @exclusivity(unchecked) private var current = ByteKeyMap<Int64>(capacity: 1024)
    @exclusivity(unchecked) private var previous = ByteKeyMap<Int64>(capacity: 16)
    private let generation: Int

    /// Holds the last `capacity / 2` to `capacity` names set or found: two generations, the older
    /// dropped when the newer is full, and a name found in the older copied into the newer, so
    /// names in use stay while names seen once age out (a name not found is looked up in the
    /// database again).
    public init(capacity: Int) {
        generation = max(1, capacity / 2)
    }

    public var count: Int { current.count + previous.count }

    @inline(__always) public func value(for name: ByteLine) -> Int64? {
        if let id = current.value(for: name) { return id }
        guard let id = previous.value(for: name) else { return nil }
        set(id, for: name)
        return id
    }

    public func set(_ id: Int64, for name: ByteLine) {
        if current.count >= generation {
            previous = current
            current = ByteKeyMap<Int64>(capacity: 1024)
        }
        current.set(id, for: name)
    }

    public func removeAll() {
        current = ByteKeyMap<Int64>(capacity: 1024)
        previous = ByteKeyMap<Int64>(capacity: 16)
    }
}
