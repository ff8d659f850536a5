import Glibc

/// Reads a whole (small) file with plain `open`/`read`.
///
/// Why not `FileManager.contents(atPath:)`: on Linux, called on a thread other than the main one
/// (chkservd's checks, the engine's own thread), it leaked what it read — about 2 KB for every
/// `/proc/PID/cmdline`, 240 KB per chkservd round on a small server (found by the soak run).
public enum FileBytes {
    /// The file's bytes, at most `limit` of them (the rest is not read); nil when it cannot be
    /// opened or read.
    public static func read(_ path: String, limit: Int = 16 << 20) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while bytes.count < limit {
            let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress!, min($0.count, limit - bytes.count)) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }
}

/// `read(2)`, named apart from `FileBytes.read`.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}
