import Foundation
import TailWatchComposition

/// The pid file, locked with `flock` for as long as the daemon runs.
///
/// Why a lock and not just the number: a stale pid file left by a kill -9 names a process that may
/// no longer exist or be someone else; the lock is released by the kernel when the daemon dies, so
/// "is it running" is answered by the lock, and the number is only read when the lock is held.
final class PidFile {
    let path: String
    private var fd: Int32 = -1

    init(path: String) {
        self.path = path
    }

    deinit { release() }

    enum Holder: Equatable {
        case none
        case running(pid: Int32)
    }

    /// Who holds the lock now, without taking it.
    static func holder(of path: String) -> Holder {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .none }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return .none
        }
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = read(fd, &buffer, buffer.count)
        let text = String(decoding: buffer.prefix(max(0, n)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return .running(pid: Int32(text) ?? 0)
    }

    /// Takes the lock (retrying briefly: a `--status` may be probing it this instant) and empties
    /// the file; returns the other holder when it is taken. `publish()` writes our pid once we are
    /// ready, which is what `--start` waits for.
    func acquire() throws -> Holder {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        var fd: Int32 = -1
        var locked = false
        for _ in 0..<20 {
            if fd < 0 {
                fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
                guard fd >= 0 else {
                    throw CommandFailure.runtime("cannot open pid file \(path): \(String(cString: strerror(errno)))")
                }
            }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                // A daemon that stopped while we waited unlinked the file before unlocking it: the
                // lock we got is on a file nobody else will ever look at, and a third process
                // could lock a new one at the path. Only a lock on the file the path names counts.
                if Self.isCurrent(fd, path: path) {
                    locked = true
                    break
                }
                close(fd)
                fd = -1
                continue
            }
            usleep(25_000)
        }
        guard locked else {
            guard fd >= 0 else { return .running(pid: 0) }
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buffer, buffer.count, 0)
            close(fd)
            let text = String(decoding: buffer.prefix(max(0, n)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return .running(pid: Int32(text) ?? 0)
        }
        ftruncate(fd, 0)
        self.fd = fd
        return .none
    }

    /// Whether `fd` is still the file at `path` (not unlinked or replaced since it was opened).
    private static func isCurrent(_ fd: Int32, path: String) -> Bool {
        var open = stat(), named = stat()
        guard fstat(fd, &open) == 0, stat(path, &named) == 0 else { return false }
        return open.st_dev == named.st_dev && open.st_ino == named.st_ino
    }

    /// Writes our pid into the locked file: the daemon is up.
    func publish() {
        guard fd >= 0 else { return }
        ftruncate(fd, 0)
        let text = "\(getpid())\n"
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    /// Unlinks the file, then unlocks it: a process that was waiting for the lock sees that the
    /// file it locked is gone (`isCurrent`) and starts over on a new one.
    func release() {
        guard fd >= 0 else { return }
        unlink(path)
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }
}
