import Glibc

/// Sleeps until a watched folder changes, the engine is woken, or a timeout passes, and says which
/// entries changed.
///
/// Why folders and not files: a folder watch reports writes to the files in it *and* the renames,
/// creations and deletions that rotation consists of, and it survives the file being replaced.
/// Why names: with 20,000 domlogs in one folder, "something changed" would make the engine look at
/// every file on every write; the entry's name lets it look at the one that changed.
/// Without inotify (other systems, or a file system that does not support it) the engine's stat
/// sweep is the safety net; either way an idle daemon makes a few system calls a second and no more.
final class FileWatcher {
    private let inotifyFD: Int32
    /// Watched folders with the inode they had: a folder deleted and created again needs a new watch.
    private var watched: [String: UInt64] = [:]
    /// The folders behind each watch descriptor (two spellings of one folder share a descriptor).
    private var folders: [Int32: [String]] = [:]
    private var pending = FolderChanges()
    let wakeHandle: WakeHandle

    init(wake: WakeHandle) {
        inotifyFD = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        wakeHandle = wake
    }

    deinit {
        if inotifyFD >= 0 { close(inotifyFD) }
    }

    /// Watches `folder` if it exists and is not watched yet. Returns false when it could not
    /// (missing folder, no inotify): the caller keeps polling and asks again later.
    @discardableResult
    func watch(folder: String) -> Bool {
        guard inotifyFD >= 0 else { return false }
        if watched[folder] != nil { return true }
        let mask = UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)
        var st = stat()
        guard stat(folder, &st) == 0 else { return false }
        let wd = inotify_add_watch(inotifyFD, folder, mask)
        guard wd >= 0 else { return false }
        watched[folder] = UInt64(st.st_ino)
        if !(folders[wd]?.contains(folder) ?? false) { folders[wd, default: []].append(folder) }
        return true
    }

    func isWatched(_ folder: String) -> Bool { watched[folder] != nil }

    /// Forgets folders that vanished or were created anew, so that `watch` adds them again.
    /// Returns the folders forgotten (the caller rescans them once they are back).
    @discardableResult
    func forgetReplacedFolders() -> [String] {
        var forgotten: [String] = []
        for (folder, inode) in watched {
            var st = stat()
            if stat(folder, &st) != 0 || UInt64(st.st_ino) != inode {
                watched[folder] = nil
                forgotten.append(folder)
            }
        }
        if !forgotten.isEmpty {
            let gone = Set(forgotten)
            folders = folders.compactMapValues { names in
                let kept = names.filter { !gone.contains($0) }
                return kept.isEmpty ? nil : kept
            }
        }
        return forgotten
    }

    enum Wake { case changed, woken, timeout }

    /// Waits up to `milliseconds` for a change or a wake-up. What changed is kept for `takeChanges`.
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

    /// What changed since the last call, emptied.
    func takeChanges() -> FolderChanges {
        defer { pending = FolderChanges() }
        return pending
    }

    private func drainInotify() {
        var scratch = [UInt8](repeating: 0, count: 64 * 1024)
        let header = MemoryLayout<inotify_event>.size
        scratch.withUnsafeMutableBytes { buffer in
            while true {
                let n = read(inotifyFD, buffer.baseAddress, buffer.count)
                guard n > 0 else { break }
                var at = 0
                while at + header <= n {
                    let wd = buffer.loadUnaligned(fromByteOffset: at, as: Int32.self)
                    let mask = buffer.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self)
                    let length = Int(buffer.loadUnaligned(fromByteOffset: at + 12, as: UInt32.self))
                    let nameStart = at + header
                    at = nameStart + length
                    guard at <= n else { break }
                    if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                        pending.overflowed = true
                        continue
                    }
                    guard let names = folders[wd] else { continue }
                    let structural = mask & UInt32(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED) != 0
                    // The name is NUL-padded to `length`.
                    var nameLength = 0
                    while nameLength < length, buffer[nameStart + nameLength] != 0 { nameLength += 1 }
                    let name = nameLength == 0 ? nil : String(decoding: UnsafeRawBufferPointer(rebasing: buffer[nameStart..<(nameStart + nameLength)]), as: UTF8.self)
                    for folder in names {
                        if structural { pending.structural.insert(folder) }
                        if let name { pending.paths.insert(FolderChanges.key(folder: folder, name: name)) }
                    }
                }
            }
        }
    }
}

/// What a `FileWatcher` saw: which entries of which folders changed.
struct FolderChanges {
    /// `key(folder:name:)` of every entry written, created, renamed or deleted.
    var paths: Set<String> = []
    /// Folders in which an entry was created, renamed or deleted, or which went away themselves.
    var structural: Set<String> = []
    /// The kernel's event queue overflowed: anything may have changed.
    var overflowed = false

    /// How a file's path is spelled in `paths`: its folder as watched, a slash, its name.
    static func key(folder: String, name: String) -> String { folder + "/" + name }
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
