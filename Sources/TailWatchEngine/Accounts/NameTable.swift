import Glibc

/// Interns names seen in a log (accounts, domains): each distinct name becomes a small integer
/// once, with its bytes kept at a fixed address for as long as the table lives, so that the
/// writer binds them to SQLite without a copy.
///
/// Why: the same few thousand names recur on millions of lines; building a `String` per line for
/// each would dominate the parser's cost.
public final class NameTable {
    // Read on every line; only `insert` writes it, never during a read (no dynamic exclusivity check needed).
    @exclusivity(unchecked) private var ids = ByteKeyMap<Int32>(capacity: 1024)
    /// Empty unless `keepsStrings`.
    public private(set) var names: [String] = []
    private var bytes: [ByteLine] = []
    private let keepsStrings: Bool
    /// Where names' bytes are kept: one after another in the chunk being filled, all freed at once
    /// (a name is one copy, not an allocation of its own). A name longer than a chunk gets one of
    /// its own.
    private var chunks: [UnsafeMutablePointer<UInt8>] = []
    private var filling: UnsafeMutablePointer<UInt8>?
    private var filled = 0
    private static let chunkSize = 64 << 10

    /// `keepsStrings`: also keep each name as a `String`, for messages and reports that read them
    /// often (accounts); without, a name costs only its bytes (names that are only written out:
    /// the hosts mail went to).
    public init(keepsStrings: Bool = true) {
        self.keepsStrings = keepsStrings
    }

    deinit { freeBytes() }

    private func freeBytes() {
        for chunk in chunks { chunk.deallocate() }
        chunks = []
        filling = nil
    }

    /// A place for `count` bytes that stays where it is until `removeAll`.
    private func storage(for count: Int) -> UnsafeMutablePointer<UInt8> {
        if count > Self.chunkSize {
            let own = UnsafeMutablePointer<UInt8>.allocate(capacity: count)
            chunks.append(own)
            return own
        }
        guard let filling, filled + count <= Self.chunkSize else {
            let chunk = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.chunkSize)
            chunks.append(chunk)
            filling = chunk
            filled = count
            return chunk
        }
        defer { filled += count }
        return filling + filled
    }

    public var count: Int { bytes.count }

    /// Forgets every name (ids start again at 0). Only once no id handed out is still to be used
    /// (between batches, say): ids held elsewhere become meaningless, and names' bytes are freed.
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

    /// The id of a name that often repeats the one looked up before at the same place in a line
    /// (a router, a transport): compared with that one's bytes first, then looked up. `last`: the
    /// id this returned before for that place (-1 at first); still right after `removeAll`, since
    /// the bytes are compared.
    @inline(__always) public func id(for name: ByteLine, sameAs last: inout Int32) -> Int32 {
        let i = Int(last)
        if i >= 0, i < bytes.count, bytes[i].count == name.count, memcmp(bytes[i].base, name.base, name.count) == 0 { return last }
        last = id(for: name)
        return last
    }

    public func id(for name: String) -> Int32 {
        withByteLine(name) { id(for: $0) }
    }

    /// Keyed by the exact bytes (a name that is not valid UTF-8 is still found again); the
    /// `String` form, with U+FFFD for invalid bytes, is for messages only.
    private func insert(_ name: ByteLine) -> Int32 {
        let id = Int32(bytes.count)
        let storage = storage(for: max(1, name.count))
        storage.initialize(from: name.base, count: name.count)
        let stable = ByteLine(base: storage, count: name.count)
        if keepsStrings { names.append(stable.string) }
        bytes.append(stable)
        ids.set(id, for: stable)
        return id
    }

    /// The name's bytes, valid as long as the table.
    @inline(__always) public subscript(bytes id: Int32) -> ByteLine { bytes[Int(id)] }

    @inline(__always) public subscript(id: Int32) -> String { keepsStrings ? names[Int(id)] : bytes[Int(id)].string }
}
