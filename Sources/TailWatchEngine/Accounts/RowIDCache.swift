/// Names (exact bytes, ASCII case folded) → the database row ids a driver stored them under: a
/// row id and an optional second one (an address's domain), bounded in size.
///
/// Why a type in the engine and not `ByteKeyMap<…>` in the driver: a generic map used from another
/// module is not specialised there, and every lookup paid for metadata and copies. This one is
/// concrete, so a lookup from a driver's hot path costs a hash and a comparison.
public final class RowIDCache {
    public struct IDs: Equatable, Sendable {
        public var id: Int64
        public var second: Int64?

        public init(id: Int64, second: Int64? = nil) {
            self.id = id
            self.second = second
        }
    }

    // Read for every name of every row; written only between reads.
    @exclusivity(unchecked) private var map = ByteKeyMap<IDs>(capacity: 1024)
    private let capacity: Int

    /// Past `capacity` names, the cache starts afresh (a name not found is looked up in the database).
    public init(capacity: Int) {
        self.capacity = capacity
    }

    public var count: Int { map.count }

    @inline(__always) public func value(for name: ByteLine) -> IDs? {
        map.value(for: name)
    }

    public func set(_ ids: IDs, for name: ByteLine) {
        if map.count >= capacity { map = ByteKeyMap<IDs>(capacity: 1024) }
        map.set(ids, for: name)
    }

    public func removeAll() {
        map = ByteKeyMap<IDs>(capacity: 1024)
    }
}
