#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sleeps until a watched folder changes, the engine is woken, or a timeout passes.
///
/// Why folders and not files: a folder watch reports writes to the files in it *and* the renames,
/// creations and deletions that rotation consists of, and it survives the file being replaced.
/// Without inotify (other systems, or a file system that does not support it) the timeout alone
/// drives a stat poll; either way an idle daemon makes a few system calls a second and no more.
final class FileWatcher {
    private let inotifyFD: Int32
    /// Watched folders with the inode they had: a folder deleted and created again needs a new watch.
    private var watched: [String: UInt64] = [:]
    let wakeHandle: WakeHandle

    init(wake: WakeHandle) {
        #if os(Linux)
        inotifyFD = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        #else
        inotifyFD = -1
        #endif
        wakeHandle = wake
    }

    deinit {
        if inotifyFD >= 0 { close(inotifyFD) }
    }

    /// Watches `folder` if it exists and is not watched yet. Returns false when it could not
    /// (missing folder, no inotify): the caller keeps polling and asks again later.
    @discardableResult
    func watch(folder: String) -> Bool {
        #if os(Linux)
        guard inotifyFD >= 0 else { return false }
        if watched[folder] != nil { return true }
        let mask = UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)
        var st = stat()
        guard stat(folder, &st) == 0, inotify_add_watch(inotifyFD, folder, mask) >= 0 else { return false }
        watched[folder] = UInt64(st.st_ino)
        return true
        #else
        return false
        #endif
    }

    /// Forgets folders that vanished or were created anew, so that `watch` adds them again.
    func forgetReplacedFolders() {
        for (folder, inode) in watched {
            var st = stat()
            if stat(folder, &st) != 0 || UInt64(st.st_ino) != inode { watched[folder] = nil }
        }
    }

    enum Wake { case changed, woken, timeout }

    /// Waits up to `milliseconds` for a change or a wake-up.
    func wait(milliseconds: Int) -> Wake {
        var fds = [pollfd(fd: wakeHandle.readFD, events: Int16(POLLIN), revents: 0)]
        if inotifyFD >= 0 { fds.append(pollfd(fd: inotifyFD, events: Int16(POLLIN), revents: 0)) }
        let n = poll(&fds, nfds_t(fds.count), Int32(clamping: milliseconds))
        guard n > 0 else { return .timeout }
        var result = Wake.timeout
        if fds[0].revents != 0 {
            wakeHandle.drain()
            result = .woken
        }
        if fds.count > 1, fds[1].revents != 0 {
            drainInotify()
            if case .timeout = result { result = .changed }
        }
        return result
    }

    private func drainInotify() {
        var scratch = [UInt8](repeating: 0, count: 64 * 1024)
        scratch.withUnsafeMutableBytes { buffer in
            while read(inotifyFD, buffer.baseAddress, buffer.count) > 0 {}
        }
    }
}

/// Wakes the engine's thread from any thread (a signal handler task, a reload): a self-pipe.
public final class WakeHandle: Sendable {
    let readFD: Int32
    let writeFD: Int32

    init() {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
            _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        }
        readFD = fds[0]
        writeFD = fds[1]
    }

    deinit {
        close(readFD)
        close(writeFD)
    }

    public func wake() {
        var byte: UInt8 = 1
        _ = write(writeFD, &byte, 1)
    }

    func drain() {
        var scratch = [UInt8](repeating: 0, count: 256)
        while read(readFD, &scratch, scratch.count) > 0 {}
    }
}
