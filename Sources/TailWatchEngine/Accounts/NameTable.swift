/// Interns names seen in a log (accounts, domains): each distinct name becomes a small integer
/// once, with its bytes kept at a fixed address for as long as the table lives, so that the
/// writer binds them to SQLite without a copy.
///
/// Why: the same few thousand names recur on millions of lines; building a `String` per line for
/// each would dominate the parser's cost.
public final class NameTable {
    private var ids = ByteKeyMap<Int32>(capacity: 1024)
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
        return insert(name.string)
    }

    public func id(for name: String) -> Int32 {
        if let id = ids.value(for: name) { return id }
        return insert(name)
    }

    private func insert(_ name: String) -> Int32 {
        let id = Int32(names.count)
        let utf8 = Array(name.utf8)
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, utf8.count))
        storage.initialize(from: utf8, count: utf8.count)
        names.append(name)
        bytes.append(ByteLine(base: storage, count: utf8.count))
        ids.set(id, for: name)
        return id
    }

    /// The name's bytes, valid as long as the table.
    @inline(__always) public subscript(bytes id: Int32) -> ByteLine { bytes[Int(id)] }

    @inline(__always) public subscript(id: Int32) -> String { names[Int(id)] }
}
