import Foundation
import TailWatchEngine

/// The `tailwatchd` pseudo-service: TailWatch watching itself, as cPanel's chkservd watches
/// tailwatchd. Down when a log driver has fallen further behind its logs than `max_behind_bytes`,
/// or when the engine's commits have been failing for over a minute (a full disk, a locked
/// database): the two ways a loaded driver silently stops accounting. Checked in the daemon only
/// (under `--once` nothing runs beside the catch-up to watch).
enum SelfCheck {
    static let serviceName = "tailwatchd"

    static func check(_ health: EngineHealth, maxBehind: Int64, except own: String, now: Date) -> (ok: Bool, parts: [String], detail: String) {
        let (drivers, failingSince, failure) = health.snapshot
        var parts: [String] = []
        var problems: [String] = []
        for driver in drivers where driver.name != own {
            let behind = driver.bytesBehind > maxBehind
            parts.append("\(driver.name):\(behind ? "-" : "+")")
            if behind { problems.append("\(driver.name) is \(HumanSize.format(driver.bytesBehind)) behind its logs (limit \(HumanSize.format(maxBehind)))") }
        }
        if let since = failingSince, now.timeIntervalSince(since) > 60 {
            parts.append("commits:-")
            problems.append("commits failing for \(Int(now.timeIntervalSince(since))) s: \(failure ?? "")")
        }
        return (problems.isEmpty, parts, problems.joined(separator: "; "))
    }
}
