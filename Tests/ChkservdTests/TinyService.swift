import Foundation
import TailWatchEngine
import TestSupport

/// A real service for chkservd to check: `Fixtures/tinysmtpd.pl` under perl, on a free loopback
/// port or a Unix socket, found again through its pid file (a restart command may replace it).
final class TinyService {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/tinysmtpd.pl").path

    let kind: String
    let address: String
    let pidFile: String
    let hang: Bool
    /// Seconds it runs before it listens (a slow-starting daemon); 0 listens at once.
    let slowStart: Int
    /// The process title, unique to this instance (what a PROCESS field names).
    let title = "tinysmtpd-" + UUID().uuidString.prefix(8).lowercased()

    init(folder: TemporaryFolder, name: String, unix: Bool = false, hang: Bool = false, slowStart: Int = 0) {
        kind = unix ? "unix" : "tcp"
        address = unix ? folder.file("\(name).sock") : String(FreePort.next())
        pidFile = folder.file("\(name).pid")
        self.hang = hang
        self.slowStart = slowStart
    }

    /// The shell command that starts it in the background (what a restart command would say).
    var startCommand: String {
        "perl '\(Self.script)' \(kind) '\(address)' '\(pidFile)' \(title) \(hang ? "hang" : slowStart > 0 ? "slow:\(slowStart)" : "") >/dev/null 2>&1 &"
    }

    var pid: pid_t? {
        (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    var isRunning: Bool { pid.map { kill($0, 0) == 0 } ?? false }

    func start() throws {
        try? FileManager.default.removeItem(atPath: pidFile)
        // Not Foundation's Process: it waits for a descriptor the backgrounded perl inherits.
        _ = try BoundedCommand.shell(startCommand, timeout: 10)
        let deadline = Date().addingTimeInterval(10)
        while pid == nil && Date() < deadline { usleep(10_000) }
        guard pid != nil else { throw CocoaError(.fileReadNoSuchFile) }
    }

    func stop() {
        guard let pid else { return }
        kill(pid, SIGKILL)
        let deadline = Date().addingTimeInterval(5)
        while kill(pid, 0) == 0 && Date() < deadline { usleep(10_000) }
        try? FileManager.default.removeItem(atPath: pidFile)
    }

    deinit { stop() }
}
