import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Rotated copies that were compressed while the daemon was stopped (`exim_mainlog.1.gz`), read
/// through a decompressed, unlinked temporary file.
///
/// Why: logrotate without `delaycompress` renames the log and compresses it in one go; when that
/// happens between the last commit and the next start, the unread rest of the log exists only
/// compressed. A compressed stream cannot be read from an offset, so the newest copies (three at
/// most) are decompressed in turn with the system's own tool until one holds the saved position;
/// its rest is then read like any rotated copy. Used only when no uncompressed file matches.
enum CompressedSiblings {
    /// Suffix → the tool that decompresses it to standard output with `-dc`.
    private static let tools: [(suffix: String, candidates: [String])] = [
        (".gz", ["/usr/bin/gzip", "/bin/gzip"]),
        (".xz", ["/usr/bin/xz", "/bin/xz"]),
        (".bz2", ["/usr/bin/bzip2", "/bin/bzip2"]),
        (".zst", ["/usr/bin/zstd"]),
    ]

    /// Decompressed copies larger than this are not tried (the temporary file is on local disk).
    static let sizeLimit: Int64 = 8 << 30

    /// The compressed rotated copies of `path` that a tool here can read, newest first.
    static func of(_ path: String) -> [(path: String, identity: FileIdentity, tool: String)] {
        let folder = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder) else { return [] }
        var found: [(path: String, identity: FileIdentity, tool: String)] = []
        for name in names {
            guard let (suffix, candidates) = tools.first(where: { name.hasSuffix($0.suffix) }),
                  RotatedSiblings.isRotatedName(String(name.dropLast(suffix.count)), of: base),
                  let tool = candidates.first(where: { access($0, X_OK) == 0 }) else { continue }
            let full = (folder as NSString).appendingPathComponent(name)
            if let identity = FileIdentity.of(path: full) { found.append((full, identity, tool)) }
        }
        return found.sorted { $0.identity.modified > $1.identity.modified }
    }

    /// An open descriptor on the decompressed content of the newest compressed copy that holds
    /// `checkpoint`, with the copy's modification time (so that the newer rotated copies follow it).
    static func copy(holding checkpoint: Checkpoint, of path: String) -> (path: String, fd: Int32)? {
        for candidate in of(path).prefix(3) {
            guard let fd = decompress(candidate.path, tool: candidate.tool, modified: candidate.identity.modified) else { continue }
            if let size = FileIdentity.of(fd: fd)?.size, fileMatches(fd, size: size, checkpoint: checkpoint) {
                return (candidate.path, fd)
            }
            close(fd)
        }
        return nil
    }

    private static func decompress(_ path: String, tool: String, modified: Double) -> Int32? {
        var template = Array(((NSTemporaryDirectory() as NSString).appendingPathComponent("tailwatch-rotated-XXXXXX")).utf8CString)
        let out = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard out >= 0 else { return nil }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        _ = fcntl(out, F_SETFD, FD_CLOEXEC)
        guard let child = try? ChildProcess.spawn(executable: tool, arguments: ["-dc", "--", path], environment: [:], input: .devNull, separateErrors: true) else {
            close(out)
            return nil
        }
        var ok = true
        var total: Int64 = 0
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let n = read(child.output, chunk, 1 << 20)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { ok = n == 0; break }
            total += Int64(n)
            if total > sizeLimit { ok = false; break }
            var written = 0
            while written < n {
                let w = write(out, chunk + written, n - written)
                if w <= 0 { ok = false; break }
                written += w
            }
            if !ok { break }
        }
        if !ok { kill(-child.pid, SIGKILL) }
        close(child.output)
        if let errors = child.errors { close(errors) }
        var status: Int32 = 0
        while waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
        guard ok, status == 0 else {
            close(out)
            return nil
        }
        var times = [timespec](repeating: timespec(tv_sec: Int(modified), tv_nsec: Int((modified - modified.rounded(.down)) * 1e9)), count: 2)
        _ = futimens(out, &times)
        return out
    }
}
