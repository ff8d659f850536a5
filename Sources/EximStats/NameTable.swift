import TailWatchEngine

/// Interns account and domain names seen in the log: each distinct name becomes a small integer
/// once, and is bound to SQLite from the stored `String` thereafter.
///
/// Why: the same few thousand names recur on millions of lines; building a `String` per line for
/// each would dominate the parser's cost.
struct NameTable {
    private var ids = ByteKeyMap<Int32>(capacity: 1024)
    private(set) var names: [String] = []

    @inline(__always) mutating func id(for bytes: ByteLine) -> Int32 {
        if let id = ids.value(for: bytes) { return id }
        return insert(bytes.string)
    }

    mutating func id(for name: String) -> Int32 {
        if let id = ids.value(for: name) { return id }
        return insert(name)
    }

    private mutating func insert(_ name: String) -> Int32 {
        let id = Int32(names.count)
        names.append(name)
        ids.set(id, for: name)
        return id
    }

    @inline(__always) subscript(id: Int32) -> String { names[Int(id)] }
}
