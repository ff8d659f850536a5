import Foundation
import Synchronization
import TailWatchEngine

/// `/var/log/chkservd.log` in cPanel's shape, one `write` per block of lines so that services
/// finishing at the same moment never interleave within a line:
///
///     [2026-11-30 10:00:00 +0000] Service check ....exim [[check command:+][socket connect:+]]...Done
///     [2026-11-30 10:00:03 +0000] Restarting exim....Done
public final class ChkservdLog: Sendable {
    private let path: String
    /// DateFormatter is not Sendable: it is only used under this lock, which also orders the writes.
    private let formatter: Mutex<DateFormatter>

    public init(path: String) {
        self.path = path
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss Z"
        self.formatter = Mutex(formatter)
    }

    public func stamp(_ date: Date = Date()) -> String {
        formatter.withLock { "[" + $0.string(from: date) + "]" }
    }

    /// Appends the lines (each gets a newline); errors go nowhere but stderr, a check never fails
    /// because its log could not be written.
    public func write(_ lines: [String]) {
        let text = lines.map { $0 + "\n" }.joined()
        formatter.withLock { _ in
            let folder = (path as NSString).deletingLastPathComponent
            if !folder.isEmpty { try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { return }
            defer { close(fd) }
            let bytes = Array(text.utf8)
            var done = 0
            while done < bytes.count {
                let n = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + done, bytes.count - done) }
                if n <= 0 { break }
                done += n
            }
        }
    }
}
