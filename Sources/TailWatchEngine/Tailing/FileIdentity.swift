import Glibc

/// Device and inode of an open file or a path, with its size: what `stat` tells about a log.
public struct FileIdentity: Sendable, Equatable {
    public let device: UInt64
    public let inode: UInt64
    public let size: Int64
    public let modified: Double

    public init(device: UInt64, inode: UInt64, size: Int64, modified: Double) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modified = modified
    }

    init(_ st: stat) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int64(st.st_size)
        modified = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
    }

    public static func of(path: String) -> FileIdentity? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return FileIdentity(st)
    }

    public static func of(fd: Int32) -> FileIdentity? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        return FileIdentity(st)
    }

    public func sameFile(as other: FileIdentity) -> Bool {
        device == other.device && inode == other.inode
    }
}

/// Reads exactly `count` bytes at `offset` (fewer only at end of file).
func preadFully(_ fd: Int32, count: Int, at offset: Int64) -> [UInt8] {
    guard count > 0, offset >= 0 else { return [] }
    var bytes = [UInt8](repeating: 0, count: count)
    var got = 0
    bytes.withUnsafeMutableBytes { buffer in
        while got < count {
            let n = pread(fd, buffer.baseAddress! + got, count - got, off_t(offset) + off_t(got))
            if n > 0 { got += n } else if n < 0 && errno == EINTR { continue } else { break }
        }
    }
    bytes.removeLast(count - got)
    return bytes
}

/// Whether the file open as `fd` holds `checkpoint`'s content: the same head, and the same bytes
/// just before the checkpoint's offset.
func fileMatches(_ fd: Int32, size: Int64, checkpoint: Checkpoint) -> Bool {
    guard size >= checkpoint.offset else { return false }
    let head = preadFully(fd, count: checkpoint.head.length, at: 0)
    guard ContentHash(head) == checkpoint.head else { return false }
    let tail = preadFully(fd, count: checkpoint.tail.length, at: checkpoint.offset - Int64(checkpoint.tail.length))
    return ContentHash(tail) == checkpoint.tail
}
