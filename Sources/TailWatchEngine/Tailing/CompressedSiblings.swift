import Foundation

import Glibc

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
        (".zst", ["/usr/bin/zstd", "/bin/zstd", "/usr/local/bin/zstd"]),
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
    /// `checkpoint`, with the copy's modification time (so that the newer rotated copies follow it),
    /// and the compressed copy's own identity (for the chain of copies read).
    static func copy(holding checkpoint: Checkpoint, of path: String) -> (path: String, fd: Int32, identity: FileIdentity)? {
        for candidate in of(path).prefix(3) {
            guard let fd = decompress(candidate.path, tool: candidate.tool, modified: candidate.identity.modified, head: checkpoint.head) else { continue }
            if let size = FileIdentity.of(fd: fd)?.size, fileMatches(fd, size: size, checkpoint: checkpoint) {
                return (candidate.path, fd, candidate.identity)
            }
            close(fd)
        }
        return nil
    }

    /// The oldest compressed copy modified at or after `modified` that is not in `read`, whole:
    /// the next file of a chain that started in an older copy (two rotations with `compress` while
    /// the daemon was stopped).
    static func next(of path: String, after modified: Double, excluding read: Set<[UInt64]>) -> (path: String, identity: FileIdentity, tool: String)? {
        of(path).reversed().first { $0.identity.modified >= modified && !read.contains([$0.identity.device, $0.identity.inode]) }
    }

    static func open(_ candidate: (path: String, identity: FileIdentity, tool: String)) -> Int32? {
        decompress(candidate.path, tool: candidate.tool, modified: candidate.identity.modified, head: nil)
    }

    /// Decompresses `path` into an unlinked temporary file. With `head`, gives up as soon as the
    /// first bytes show it is not the file sought (no need to decompress gigabytes to learn that).
    private static func decompress(_ path: String, tool: String, modified: Double, head: ContentHash?) -> Int32? {
        var template = Array(((NSTemporaryDirectory() as NSString).appendingPathComponent("tailwatch-rotated-XXXXXX")).utf8CString)
        let out = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard out >= 0 else { return nil }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        _ = fcntl(out, F_SETFD, FD_CLOEXEC)
        // Through sh, so that the tool's warnings go to /dev/null instead of a pipe nobody drains.
        guard let child = try? ChildProcess.spawn(
            executable: "/bin/sh", arguments: ["-c", "exec \"$0\" -dc -- \"$1\" 2>/dev/null", tool, path],
            environment: [:], input: .devNull, separateErrors: false) else {
            close(out)
            return nil
        }
        var headChecked = head == nil || head!.length == 0
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
            if !headChecked, let head, total >= Int64(head.length) {
                headChecked = true
                if ContentHash(preadFully(out, count: head.length, at: 0)) != head { ok = false; break }
            }
        }
        if !ok { kill(-child.pid, SIGKILL) }
        close(child.output)
        if let errors = child.errors { close(errors) }
        var status: Int32 = 0
        while waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
        // gzip exits 2 after a warning (trailing garbage): the content is whole.
        let exit = (status >> 8) & 0xFF
        guard ok, status & 0x7F == 0, exit == 0 || (exit == 2 && tool.hasSuffix("gzip")) else {
            close(out)
            return nil
        }
        var times = [timespec](repeating: timespec(tv_sec: Int(modified), tv_nsec: Int((modified - modified.rounded(.down)) * 1e9)), count: 2)
        _ = futimens(out, &times)
        return out
    }
}
