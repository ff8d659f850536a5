/// Interns names seen in a log (accounts, domains): each distinct name becomes a small integer
/// once, with its bytes kept at a fixed address for as long as the table lives, so that the
/// writer binds them to SQLite without a copy.
///
/// Why: the same few thousand names recur on millions of lines; building a `String` per line for
/// each would dominate the parser's cost.
public final class NameTable {
    // Read on every line; only `insert` writes it, never during a read (no dynamic exclusivity check needed).
    @exclusivity(unchecked) private var ids = ByteKeyMap<Int32>(capacity: 1024)
    public private(set) var names: [String] = []
    private var bytes: [ByteLine] = []

    public init() {}

    deinit { freeBytes() }

    private func freeBytes() {
        for line in bytes { UnsafeMutablePointer(mutating: line.base).deallocate() }
    }

    public var count: Int { names.count }

    /// Forgets every name (ids start again at 0). Only between batches: ids held elsewhere become
    /// meaningless.
    public func removeAll() {
        freeBytes()
        bytes = []
        names = []
        ids = ByteKeyMap<Int32>(capacity: 1024)
    }

    @inline(__always) public func id(for name: ByteLine) -> Int32 {
        if let id = ids.value(for: name) { return id }
        return insert(name)
    }

    public func id(for name: String) -> Int32 {
        withByteLine(name) { id(for: $0) }
    }

    /// Keyed by the exact bytes (a name that is not valid UTF-8 is still found again); the
    /// `String` form, with U+FFFD for invalid bytes, is for messages only.
    private func insert(_ name: ByteLine) -> Int32 {
        let id = Int32(names.count)
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, name.count))
        storage.initialize(from: name.base, count: name.count)
        let stable = ByteLine(base: storage, count: name.count)
        names.append(stable.string)
        bytes.append(stable)
        ids.set(id, for: stable)
        return id
    }

    /// The name's bytes, valid as long as the table.
    @inline(__always) public subscript(bytes id: Int32) -> ByteLine { bytes[Int(id)] }

    @inline(__always) public subscript(id: Int32) -> String { names[Int(id)] }
}
