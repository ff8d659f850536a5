import Glibc
import Foundation

/// Replaces a file that other programs read (exim's relay whitelist, marker files) so that a reader
/// sees the old content or the new, never an empty or partial file.
///
/// How: the bytes go to a new file in the same folder (`O_EXCL`, so nothing existing is followed),
/// which is fsynced and renamed over the target, then the folder is fsynced. `rename` replaces a
/// symlink at the target rather than writing through it. The new file keeps the old one's owner
/// and group when this process may set them (an operator's `root:exim 0640` must survive, or exim
/// stops reading it). A target that already holds exactly these bytes, with this mode, as a
/// regular file, is left alone: its mtime stays, so readers that cache by mtime (exim's lookups)
/// keep their cache. Temporary files of writers that died (`.NAME.tmp.PID.*`, PID gone) are removed.
public enum AtomicFile {
    /// What `write` did.
    public enum Outcome: Equatable, Sendable {
        case written
        case unchanged
    }

    /// Why a write failed, naming the path and the system's reason.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    @discardableResult
    public static func write(_ contents: [UInt8], to path: String, mode: mode_t = 0o644) throws(Failure) -> Outcome {
        if isCurrent(path, contents: contents, mode: mode) { return .unchanged }
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let prefix = "." + url.lastPathComponent + ".tmp."
        removeLeftovers(in: folder, prefix: prefix)
        let temporary = folder + "/" + prefix + String(getpid()) + "." + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let handle = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard handle >= 0 else { throw failure("cannot create \(temporary)") }
        var old = stat()
        if lstat(path, &old) == 0, old.st_mode & S_IFMT == S_IFREG {
            _ = fchown(handle, old.st_uid, old.st_gid) // EPERM when not root: the file stays ours
        }
        var ok = fchmod(handle, mode) == 0
        var written = 0
        contents.withUnsafeBytes { raw in
            while ok, written < raw.count {
                let n = systemWrite(handle, raw.baseAddress! + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    ok = false
                } else {
                    written += n
                }
            }
        }
        let reason = ok ? nil : String(cString: strerror(errno))
        if ok, fsync(handle) != 0 { ok = false }
        let syncReason = ok ? nil : (reason ?? String(cString: strerror(errno)))
        close(handle)
        guard ok else {
            unlink(temporary)
            throw Failure(description: "cannot write \(temporary): \(syncReason ?? "unknown error")")
        }
        guard rename(temporary, path) == 0 else {
            let error = failure("cannot rename \(temporary) to \(path)")
            unlink(temporary)
            throw error
        }
        let dir = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            _ = fsync(dir)
            close(dir)
        }
        return .written
    }

    @discardableResult
    public static func write(_ text: String, to path: String, mode: mode_t = 0o644) throws(Failure) -> Outcome {
        try write(Array(text.utf8), to: path, mode: mode)
    }

    /// Removes `path` if it is there; a missing file is no error.
    public static func remove(_ path: String) throws(Failure) {
        if unlink(path) != 0, errno != ENOENT { throw failure("cannot remove \(path)") }
    }

    /// Whether `path` is a regular file (not a symlink) holding exactly `contents` with `mode`.
    private static func isCurrent(_ path: String, contents: [UInt8], mode: mode_t) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_mode & 0o7777 == mode,
              Int(info.st_size) == contents.count else { return false }
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var existing = [UInt8](repeating: 0, count: contents.count + 1)
        var total = 0
        while total < existing.count {
            let n = existing.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, $0.count - total) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            total += n
        }
        return total == contents.count && existing.prefix(total).elementsEqual(contents)
    }

    /// Temporary files of this target whose writer is gone.
    private static func removeLeftovers(in folder: String, prefix: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names where name.hasPrefix(prefix) {
            let pidText = name.dropFirst(prefix.count).prefix { $0 != "." }
            guard let pid = pid_t(pidText), pid > 0 else { continue }
            if kill(pid, 0) != 0, errno == ESRCH { unlink(folder + "/" + name) }
        }
    }

    private static func failure(_ what: String) -> Failure {
        Failure(description: "\(what): \(String(cString: strerror(errno)))")
    }
}

/// `write(2)`, named apart from Swift's own `write`s.
@inline(__always) public func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    Glibc.write(fd, buffer, count)
}
