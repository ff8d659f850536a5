import Foundation
import GRDB
import Logging
import TailWatchEngine

/// Watches accounts' monthly totals against their limits: at 80, 90 and 100 % it records the level
/// (once per level and month, in the batch's transaction), logs it and runs the notification
/// command after the commit; at 100 % it marks the account over its limit — a row in
/// `bandwidth_overlimit` and the marker files `LIMITED_DIR/USER` and `LIMITED_DIR/DOMAIN` that
/// cPanel's mod_bwlimited reads — until a new month or a raised limit brings it under again.
final class LimitEnforcer {
    static let levels: [Int64] = [80, 90, 100]

    struct Event {
        var user: String
        var domain: String
        var level: Int64
        var limit: Int64
        var usage: Int64
    }

    private let limitsPath: String
    private let limitedDirectory: String?
    private let notifyCommand: String?
    private let notifyTimeout: Double
    private let accounts: LiveUserDomains
    private let logger: Logger
    private(set) var limits: BandwidthLimits
    private var limitsFile: EditedFile
    private let afterCommit: AfterCommit
    private let commands: CommandRunner

    init(
        limitsPath: String, limitedDirectory: String?, notifyCommand: String?, notifyTimeout: Double, accounts: LiveUserDomains,
        afterCommit: AfterCommit, commands: CommandRunner, logger: Logger
    ) {
        self.limitsPath = limitsPath
        self.limitedDirectory = limitedDirectory
        self.notifyCommand = notifyCommand
        self.notifyTimeout = notifyTimeout
        self.accounts = accounts
        self.afterCommit = afterCommit
        self.commands = commands
        self.logger = logger
        self.limits = BandwidthLimits()
        limitsFile = EditedFile(path: limitsPath, readNow: false)
        reloadIfChanged()
    }

    /// Re-reads the limits file when it changed (or on the first call).
    @discardableResult
    func reloadIfChanged() -> Bool {
        switch limitsFile.look() {
        case .unchanged:
            return false
        case .missing:
            // Missing for a moment (a tool rewriting it): keep the limits we have rather than
            // release every account and warn them all again.
            logger.warning("limits: \(limitsPath) is missing; keeping the \(limits.bytes.count) limits read before")
            return false
        case .changed:
            limits = BandwidthLimits.load(path: limitsPath)
            for problem in limits.problems { logger.warning("limits: \(problem); line skipped") }
            logger.info("limits: \(limits.bytes.count) accounts with a monthly limit in \(limitsPath)")
            return true
        }
    }

    /// Inside the batch's transaction, after its sums were written: check the accounts it touched.
    func check(_ db: Database, touched: [(user: String, domain: String, month: Int64)], now: Int64) throws {
        // Limits are about this month: a late line of an earlier month changes its totals but
        // neither warns nor blocks anyone.
        let currentMonth = CivilTime.monthStart(ofUTC: now)
        for (user, domain, month) in touched where month == currentMonth {
            guard let limit = limits.bytes[user] else { continue }
            let usage = try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(bytes), 0) FROM bandwidth_monthly WHERE user = ? AND period = ?", arguments: [user, month]) ?? 0
            for level in Self.levels where usage.multipliedReportingOverflow(by: 100).partialValue >= limit.multipliedReportingOverflow(by: level).partialValue {
                try db.execute(sql: """
                    INSERT OR IGNORE INTO bandwidth_limit_levels (user, month, level, reached_at, usage, limit_bytes) VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [user, month, level, now, usage, limit])
                guard db.changesCount == 1 else { continue }
                let event = Event(user: user, domain: domain, level: level, limit: limit, usage: usage)
                afterCommit.add("bandwidth limit notice for \(user)") { self.announce(event) }
                if level == 100 {
                    try db.execute(sql: "INSERT OR REPLACE INTO bandwidth_overlimit (user, month, usage, limit_bytes, since) VALUES (?, ?, ?, ?, ?)",
                                   arguments: [user, month, usage, limit, now])
                    placeMarkers(of: user)
                }
            }
        }
    }

    /// Periodically and at start: accounts listed over their limit whose month ended or whose limit
    /// was raised or removed are released; markers of those still over are (re)written.
    func reconcile(_ db: Database, month: Int64) throws {
        for row in try Row.fetchAll(db, sql: "SELECT user, month, usage FROM bandwidth_overlimit") {
            let user: String = row["user"], since: Int64 = row["month"]
            let usage = try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(bytes), 0) FROM bandwidth_monthly WHERE user = ? AND period = ?", arguments: [user, month]) ?? 0
            if since == month, let limit = limits.bytes[user], usage >= limit {
                placeMarkers(of: user)
                continue
            }
            try db.execute(sql: "DELETE FROM bandwidth_overlimit WHERE user = ?", arguments: [user])
            if let directory = limitedDirectory {
                let names = markers(of: user)
                afterCommit.add("removing bandwidth limit markers of \(user)", key: Self.markersKey(user)) {
                    for name in names where unlink(directory + "/" + name) != 0 && errno != ENOENT {
                        throw LimitMarkerError(path: directory + "/" + name, action: "remove", errno: errno)
                    }
                }
            }
            logger.info("\(user) is no longer over its monthly bandwidth limit (\(since != month ? "a new month" : "the limit was raised or removed"))")
        }
        // Levels this month's usage no longer reaches under the current limit (it was raised or
        // removed) are re-armed, so that reaching them again warns again.
        for row in try Row.fetchAll(db, sql: "SELECT user, level FROM bandwidth_limit_levels WHERE month = ?", arguments: [month]) {
            let user: String = row["user"], level: Int64 = row["level"]
            let usage = try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(bytes), 0) FROM bandwidth_monthly WHERE user = ? AND period = ?", arguments: [user, month]) ?? 0
            let reached = limits.bytes[user].map { usage.multipliedReportingOverflow(by: 100).partialValue >= $0.multipliedReportingOverflow(by: level).partialValue } ?? false
            if !reached {
                try db.execute(sql: "DELETE FROM bandwidth_limit_levels WHERE user = ? AND month = ? AND level = ?", arguments: [user, month, level])
            }
        }
    }

    private func markers(of user: String) -> [String] {
        [user] + accounts.map.domains(of: user)
    }

    /// After the commit: the empty files mod_bwlimited reads, for the account and its domains.
    private func placeMarkers(of user: String) {
        guard let directory = limitedDirectory else { return }
        let names = markers(of: user)
        afterCommit.add("bandwidth limit markers of \(user)", key: Self.markersKey(user)) {
            for name in names { try Self.writeMarker(directory + "/" + name) }
        }
    }

    /// Placing and removing an account's markers share a key: the newer decision replaces an older
    /// one still waiting for a retry, so a failed write can never bring back a lifted block.
    private static func markersKey(_ user: String) -> String { "bandwidth-limit-markers.\(user)" }

    private static func writeMarker(_ path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: path),
           !FileManager.default.createFile(atPath: path, contents: Data(), attributes: [.posixPermissions: 0o644]) {
            throw LimitMarkerError(path: path, action: "create", errno: errno)
        }
    }

    /// After the commit: the warning line and the notification command.
    private func announce(_ event: Event) {
        logger.warning("\(event.user) reached \(event.level)% of its monthly bandwidth limit: \(HumanSize.format(event.usage)) of \(HumanSize.format(event.limit)) (last traffic on \(event.domain.isEmpty ? "-" : event.domain))")
        notify(event)
    }

    /// Runs the notification command with user, domain, level, limit and usage as arguments, off
    /// the engine's thread, killed after the timeout (the engine's `CommandRunner`).
    private func notify(_ event: Event) {
        guard let command = notifyCommand else { return }
        commands.run(command, [event.user, event.domain, String(event.level), String(event.limit), String(event.usage)],
                     timeout: notifyTimeout, what: "limits: notify_command for \(event.user) at \(event.level)%")
    }

}

/// A marker file of the bandwidth limits could not be created or removed (the folder not
/// writable, say); retried after the next commit.
struct LimitMarkerError: Error, CustomStringConvertible {
    let path: String
    let action: String
    let errno: Int32

    var description: String { "cannot \(action) \(path): \(String(cString: strerror(errno)))" }
}
