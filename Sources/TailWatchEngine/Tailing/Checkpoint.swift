/// A hash of a run of a file's bytes, with the run's length: how a checkpoint recognises content.
public struct ContentHash: Sendable, Equatable {
    public var length: Int
    public var hash: UInt64

    public static let empty = ContentHash(length: 0, hash: FNV1a().value)

    public init(length: Int, hash: UInt64) {
        self.length = length
        self.hash = hash
    }

    public init(_ bytes: [UInt8]) {
        self.length = bytes.count
        self.hash = FNV1a.hash(bytes)
    }
}

/// Where a driver is in one file: the offset just past the last line whose effect is committed,
/// and what the file looked like there.
///
/// Why content and not just the inode: inodes are reused after a delete, and copytruncate keeps the
/// inode while replacing the content. `head` (the first bytes) and `tail` (the bytes just before
/// `offset`) must both match for a file to be "the same file at the same place"; device and inode
/// only break ties.
public struct Checkpoint: Sendable, Equatable {
    public var device: UInt64
    public var inode: UInt64
    public var offset: Int64
    public var head: ContentHash
    public var tail: ContentHash

    public init(device: UInt64, inode: UInt64, offset: Int64, head: ContentHash, tail: ContentHash) {
        self.device = device
        self.inode = inode
        self.offset = offset
        self.head = head
        self.tail = tail
    }

    /// How many bytes before the offset the tail hash covers.
    public static let tailWindow = 256
    /// How many bytes at the start of a file the head hash covers, at most.
    public static let headWindow = 1024
}
