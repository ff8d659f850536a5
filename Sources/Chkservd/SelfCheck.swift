import Foundation
import TailWatchEngine

/// The `tailwatchd` pseudo-service: TailWatch watching itself, as cPanel's chkservd watches
/// tailwatchd. Down when a log driver has fallen further behind its logs than `max_behind_bytes`,
/// when one has had more than 64 KiB waiting and committed nothing for ten minutes (stalled), or when the
/// engine's commits have been failing for over a minute: the ways a loaded driver silently stops
/// accounting. Checked in the daemon only (under `--once` nothing runs beside the catch-up to
/// watch). The board lists the engine's log drivers; chkservd, timed work, is not on it.
enum SelfCheck {
    static let serviceName = "tailwatchd"
    static let stallSeconds: Double = 600
    static let stallBytes: Int64 = 65536

    static func check(_ health: EngineHealth, maxBehind: Int64, now: Date) -> (ok: Bool, parts: [String], detail: String) {
        let (drivers, failingSince, failure) = health.snapshot
        var parts: [String] = []
        var problems: [String] = []
        for driver in drivers {
            let behind = driver.bytesBehind > maxBehind
            let quietSince = driver.lastCommit ?? health.startedAt
            // More than a line's worth waiting: a log that merely ends without a newline (a writer
            // that died mid-line) leaves its last bytes unread for good, and that is no stall.
            let stalled = driver.bytesBehind > stallBytes && now.timeIntervalSince(quietSince) > stallSeconds
            parts.append("\(driver.name):\(behind || stalled ? "-" : "+")")
            if behind { problems.append("\(driver.name) is \(HumanSize.format(driver.bytesBehind)) behind its logs (limit \(HumanSize.format(maxBehind)))") }
            else if stalled { problems.append("\(driver.name) has \(HumanSize.format(driver.bytesBehind)) waiting and committed nothing for \(Int(now.timeIntervalSince(quietSince))) s") }
        }
        if let since = failingSince, now.timeIntervalSince(since) > 60 {
            parts.append("commits:-")
            problems.append("commits failing for \(Int(now.timeIntervalSince(since))) s: \(failure ?? "")")
        }
        return (problems.isEmpty, parts, problems.joined(separator: "; "))
    }
}
