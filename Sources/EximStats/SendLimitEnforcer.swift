import Foundation
import GRDB
import Logging
import TailWatchEngine

/// Enforces the sending limits for the current clock hour: counts each domain's deliveries to
/// remote hosts, messages, and defers + failures; when a domain reaches its limit, writes
/// `max_emails_DOMAIN` (`current/max`) or `max_deferfail_DOMAIN` (`current/threshold (pct%)`) into
/// the limits folder that exim's ACL reads, logs it and runs the notification command once per
/// domain, kind and hour. At the top of the hour the counts start again and the markers go.
///
/// Exactly once: the counts are the rollup's (`mail_hourly.remote_delivered` and friends), which
/// commit with the lines, so a restart seeds the current hour from the database; a limit reached is
/// recorded in `send_limit_events` in the same transaction, so its log line and notification never
/// repeat. Markers and notifications are after-commit effects (`AfterCommit`): they follow the
/// commit, never a rolled-back batch.
/// Only the current hour (wall clock, UTC hours) is enforced: a backlog of past hours is counted
/// in the rollup but blocks no one now.
final class SendLimitEnforcer {
    struct Counts: Equatable {
        var remote: Int64 = 0
        var sent: Int64 = 0
        var deferFail: Int64 = 0

        static func + (a: Counts, b: Counts) -> Counts {
            Counts(remote: a.remote + b.remote, sent: a.sent + b.sent, deferFail: a.deferFail + b.deferFail)
        }
    }

    enum Kind: String { case maxEmails = "max_emails", maxDeferFail = "max_deferfail" }

    private let settings: EximStatsSettings
    private let logger: Logger
    private let clock: @Sendable () -> Date
    private(set) var limits: SendLimits
    /// The limits file as last read (a change in any part means it was edited or replaced).
    private var limitsFile: EditedFile?
    /// Start of the hour being enforced (UTC).
    private(set) var hour: Int64
    private var committed: [String: Counts] = [:]
    private var reached = Set<String>()
    /// This batch, indexed by the driver's name ids (dense small integers: an array, no hashing on
    /// the hot path), and the ids touched.
    private var pending: [Counts] = []
    private var touched: [Int32] = []
    /// Totals and limits reached in the open transaction, over `committed` and `reached`: they
    /// become those once it commits, and are forgotten if it rolls back.
    private var uncommitted = Uncommitted()
    private let afterCommit: AfterCommit
    private let commands: CommandRunner
    private var insertEvent: PreparedStatement?
    private var needsReconcile = true
    private var lastLimitsCheck = Date.distantPast
    private var warnedNames = Set<String>()
    /// When each marker was last written: while a domain stays over, its marker's count is
    /// refreshed at most every 10 s (each write is two fsyncs on the engine's thread).
    private var markerWritten: [String: Deadline] = [:]

    /// Marker files this process knows are there (written, or found wanted at the last reconcile).
    private var markersPresent = Set<String>()

    private struct Uncommitted {
        var totals: [String: Counts] = [:]
        var reached = Set<String>()
        /// The effect that makes them the committed ones is registered.
        var registered = false
    }

    private enum Action {
        case marker(Kind, domain: String, content: String)
        case removeMarker(Kind, domain: String)
        case announce(Kind, domain: String, count: Int64, threshold: Int64, percent: Int)
    }

    init(settings: EximStatsSettings, afterCommit: AfterCommit, commands: CommandRunner, logger: Logger, clock: @escaping @Sendable () -> Date) {
        self.settings = settings
        self.afterCommit = afterCommit
        self.commands = commands
        self.logger = logger
        self.clock = clock
        limits = SendLimits.load(path: settings.sendLimits, globalMaxPerHour: settings.maxEmailsPerHour)
        hour = MailReport.floorHour(Int64(clock().timeIntervalSince1970))
        limitsFile = settings.sendLimits.map { EditedFile(path: $0, readNow: true) }
        for problem in limits.problems { logger.warning("\(problem)") }
    }

    var isActive: Bool { limits.isActive }

    func open(_ db: Database) throws {
        insertEvent = try PreparedStatement(db, sql: """
            INSERT OR IGNORE INTO send_limit_events (domain, hour, kind, reached_at, count, threshold) VALUES (?, ?, ?, ?, ?, ?)
            """)
        try seed(db, hour: hour)
    }

    /// The counts and reached limits of `hour`, from the database; they replace the current ones
    /// only once both are read.
    private func seed(_ db: Database, hour newHour: Int64) throws {
        var counts: [String: Counts] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT lower(domain) AS domain, sum(sent) AS sent, sum(remote_delivered) AS remote, sum(deferred + failed) AS deferfail
            FROM mail_hourly WHERE hour = ? AND user <> '-remote-' AND domain <> '' GROUP BY lower(domain)
            """, arguments: [newHour]) {
            counts[row["domain"]] = Counts(remote: row["remote"], sent: row["sent"], deferFail: row["deferfail"])
        }
        let events = Set(try Row.fetchAll(db, sql: "SELECT domain, kind FROM send_limit_events WHERE hour = ?", arguments: [newHour])
            .map { "\($0["kind"] as String)\u{0}\($0["domain"] as String)" })
        hour = newHour
        committed = counts
        reached = events
    }

    // MARK: Counting (hot path)

    /// Whether a line of `time` counts for the hour being enforced.
    @inline(__always) func isCurrent(_ time: Int64) -> Bool { time >= hour && time < hour + 3600 }

    @inline(__always) func addRemoteDelivery(domain: Int32) { pending[slot(domain)].remote += 1 }
    @inline(__always) func addSent(domain: Int32) { pending[slot(domain)].sent += 1 }
    @inline(__always) func addDeferFail(domain: Int32) { pending[slot(domain)].deferFail += 1 }

    /// The index of `id` in `pending`, noting it as touched the first time in a batch.
    @inline(__always) private func slot(_ id: Int32) -> Int {
        let i = Int(id)
        if i >= pending.count { pending += Array(repeating: Counts(), count: max(i + 1 - pending.count, pending.count)) }
        if pending[i] == Counts() { touched.append(id) }
        return i
    }

    // MARK: Batches

    /// Inside the batch's transaction: the new totals of the domains this batch touched, the limits
    /// they reach, and the events to record.
    func flush(_ db: Database, name: (Int32) -> String) throws {
        guard !touched.isEmpty else { return }
        var totals = uncommitted.totals
        var newlyReached = uncommitted.reached
        var actions: [Action] = []
        // One sum per domain first (the same domain may come in several spellings of case).
        var batch: [String: Counts] = [:]
        for id in touched {
            let counts = pending[Int(id)]
            pending[Int(id)] = Counts()
            let domain = Self.fold(name(id))
            guard !domain.isEmpty else { continue } // bounces and mail of unknown origin: no domain to limit
            batch[domain, default: Counts()] = batch[domain, default: Counts()] + counts
        }
        for (domain, counts) in batch {
            let total = (totals[domain] ?? committed[domain] ?? Counts()) + counts
            totals[domain] = total
            let limit = limits.limit(for: domain)
            let breaches = Self.breaches(total, limit)
            // Defers and failures can fall back under their share as more mail goes out well.
            for kind in [Kind.maxEmails, .maxDeferFail] where !breaches.contains(where: { $0.0 == kind }) && markersPresent.contains("\(kind.rawValue)_\(domain)") {
                actions.append(.removeMarker(kind, domain: domain))
            }
            for (kind, count, threshold, percent) in breaches {
                actions.append(.marker(kind, domain: domain, content: Self.markerText(kind, count: count, threshold: threshold, percent: percent)))
                if try record(kind, domain: domain, count: count, threshold: threshold, reachedNow: &newlyReached) {
                    actions.append(.announce(kind, domain: domain, count: count, threshold: threshold, percent: percent))
                }
            }
        }
        touched.removeAll(keepingCapacity: true)
        stage(totals: totals, reached: newlyReached, actions: actions)
    }

    /// What the open transaction decided, for after its commit: the totals and limits reached
    /// become the committed ones, then each action is carried out in order.
    private func stage(totals: [String: Counts], reached newlyReached: Set<String>, actions: [Action]) {
        uncommitted.totals = totals
        uncommitted.reached = newlyReached
        if !uncommitted.registered {
            uncommitted.registered = true
            afterCommit.add("send limits: counts", ifDropped: { self.uncommitted = Uncommitted() }) {
                self.committed.merge(self.uncommitted.totals) { $1 }
                self.reached.formUnion(self.uncommitted.reached)
                self.uncommitted = Uncommitted()
            }
        }
        for action in actions {
            switch action {
            case .marker(let kind, let domain, _), .removeMarker(let kind, let domain):
                // A newer decision about the same marker replaces one that has not worked yet.
                afterCommit.add("send limits: marker \(kind.rawValue)_\(domain)", key: "send-limits.\(kind.rawValue)_\(domain)") {
                    try self.perform(action)
                }
            case .announce:
                afterCommit.add("send limits: notice") { try self.perform(action) }
            }
        }
    }

    private func perform(_ action: Action) throws {
        switch action {
        case .marker(let kind, let domain, let content):
            try writeMarker(kind, domain: domain, content: content)
        case .removeMarker(let kind, let domain):
            let name = "\(kind.rawValue)_\(domain)"
            try AtomicFile.remove(settings.limitsDirectory + "/" + name)
            markersPresent.remove(name)
            logger.info("[\(domain)] back under its \(kind == .maxEmails ? "hourly limit" : "defer/fail share"); \(name) removed")
        case .announce(let kind, let domain, let count, let threshold, let percent):
            switch kind {
            case .maxEmails: logger.warning("[\(domain)] Max Email/Hour Limit reached (\(threshold))")
            case .maxDeferFail: logger.warning("[\(domain)] Max Defer/Fail Percentage reached (\(count)/\(threshold), \(percent)%)")
            }
            notify(domain: domain, kind: kind, count: count, threshold: threshold)
        }
    }

    /// The limits `counts` has reached: (kind, count, threshold, percent). Defer/fail protection
    /// compares defers + failures with the hour's delivery attempts (deliveries to remote hosts,
    /// defers and failures: "10 sent, 9 bounced" is 90 %), at or above the configured percentage
    /// once the minimum is reached; its threshold is that minimum and its percent the configured one.
    static func breaches(_ counts: Counts, _ limit: DomainLimit) -> [(Kind, Int64, Int64, Int)] {
        var result: [(Kind, Int64, Int64, Int)] = []
        if limit.maxPerHour > 0, counts.remote >= Int64(limit.maxPerHour) {
            result.append((.maxEmails, counts.remote, Int64(limit.maxPerHour), 0))
        }
        let attempts = counts.remote &+ counts.deferFail
        if limit.maxDeferFailPercent > 0, counts.deferFail >= Int64(max(1, limit.minDeferFail)), attempts > 0,
           Double(counts.deferFail) * 100 >= Double(limit.maxDeferFailPercent) * Double(attempts) {
            result.append((.maxDeferFail, counts.deferFail, Int64(max(1, limit.minDeferFail)), limit.maxDeferFailPercent))
        }
        return result
    }

    /// The share of the hour's delivery attempts that were defers or failures, in percent.
    static func deferFailShare(_ counts: Counts) -> Double? {
        let attempts = counts.remote &+ counts.deferFail
        return attempts > 0 ? Double(counts.deferFail) * 100 / Double(attempts) : nil
    }

    /// Records a limit reached in the open transaction unless it was already this hour; true when
    /// it is new (to be announced after the commit).
    private func record(_ kind: Kind, domain: String, count: Int64, threshold: Int64, reachedNow: inout Set<String>) throws -> Bool {
        let key = "\(kind.rawValue)\u{0}\(domain)"
        guard !reached.contains(key), !reachedNow.contains(key) else { return false }
        reachedNow.insert(key)
        if let insertEvent {
            insertEvent.bind(1, domain)
            insertEvent.bind(2, hour)
            insertEvent.bind(3, kind.rawValue)
            insertEvent.bind(4, Int64(clock().timeIntervalSince1970))
            insertEvent.bind(5, count)
            insertEvent.bind(6, threshold)
            try insertEvent.run()
        }
        return true
    }

    /// Domains are compared in ASCII lower case, as SQLite's lower() folds them (the seed).
    static func fold(_ domain: String) -> String {
        String(decoding: domain.utf8.map { $0 &- 0x41 < 26 ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    static func markerText(_ kind: Kind, count: Int64, threshold: Int64, percent: Int) -> String {
        switch kind {
        case .maxEmails: "\(count)/\(threshold)\n"
        case .maxDeferFail: "\(count)/\(threshold) (\(percent)%)\n"
        }
    }

    /// The batch rolled back: its counts are forgotten (what it staged is dropped by the outbox).
    func rollback() {
        for id in touched { pending[Int(id)] = Counts() }
        touched.removeAll(keepingCapacity: true)
    }

    /// Every tick: a new hour starts afresh (markers go); a changed limits file is read again; at
    /// start and after either, the markers are made to match the counts.
    func tick(_ db: Database, now: Date) throws {
        let current = MailReport.floorHour(Int64(now.timeIntervalSince1970))
        if current != hour {
            try seed(db, hour: current)
            needsReconcile = true
            try db.execute(sql: "DELETE FROM send_limit_events WHERE hour < ?", arguments: [current - 7 * 86400])
        }
        if now.timeIntervalSince(lastLimitsCheck) >= 5 {
            lastLimitsCheck = now
            // Edited, replaced or deleted (an absent file lifts every block): read again.
            if let look = limitsFile?.look(), look != .unchanged {
                limits = SendLimits.load(path: settings.sendLimits, globalMaxPerHour: settings.maxEmailsPerHour)
                for problem in limits.problems { logger.warning("\(problem)") }
                logger.info("send limits re-read from \(settings.sendLimits ?? "(none)"): \(limits.domains.count) domain line(s)")
                needsReconcile = true
            }
        }
        if needsReconcile {
            needsReconcile = false
            // The folder is managed when limits are in use: some limit is set, or the limits file
            // exists (emptied, it lifts every block). With neither, it is not ours to touch.
            if limits.isActive || settings.sendLimits.map({ FileManager.default.fileExists(atPath: $0) }) == true {
                try reconcile(db)
            }
        }
    }

    /// Markers exactly for the domains over a limit now; every other marker goes (also when no
    /// limit is configured any more: a marker must never outlive its limit). A limit found reached
    /// here (the file lowered it, or the hour's first lines reached it before the hour changed) is
    /// recorded and announced like one reached by a delivery.
    private func reconcile(_ db: Database) throws {
        var wanted: [String: String] = [:]
        var newlyReached = uncommitted.reached
        var actions: [Action] = []
        for (domain, counts) in committed {
            for (kind, count, threshold, percent) in Self.breaches(counts, limits.limit(for: domain)) {
                if Self.isSafeName(domain) {
                    wanted["\(kind.rawValue)_\(domain)"] = Self.markerText(kind, count: count, threshold: threshold, percent: percent)
                }
                if try record(kind, domain: domain, count: count, threshold: threshold, reachedNow: &newlyReached) {
                    actions.append(.announce(kind, domain: domain, count: count, threshold: threshold, percent: percent))
                }
            }
        }
        if !actions.isEmpty || newlyReached != uncommitted.reached { stage(totals: uncommitted.totals, reached: newlyReached, actions: actions) }
        // File writes wait on the disk (fsync): after the commit, never under the write lock. If
        // the transaction rolls back, the next tick reconciles again. The folder is set whole, so
        // an earlier marker write still waiting for a retry must not undo it later.
        afterCommit.cancel { $0.hasPrefix("send-limits.") }
        afterCommit.add("send limits: markers", key: "send-limits.markers", ifDropped: { self.needsReconcile = true }) {
            try self.placeMarkers(wanted)
        }
    }

    /// Exactly the `wanted` markers in the folder: the others removed, these written.
    private func placeMarkers(_ wanted: [String: String]) throws {
        let folder = settings.limitsDirectory
        if let names = try? FileManager.default.contentsOfDirectory(atPath: folder) {
            for name in names where (name.hasPrefix("max_emails_") || name.hasPrefix("max_deferfail_")) && wanted[name] == nil {
                try AtomicFile.remove(folder + "/" + name)
                markersPresent.remove(name)
            }
        }
        for (name, content) in wanted { try write(name: name, content: content, refreshed: false) }
    }

    private func writeMarker(_ kind: Kind, domain: String, content: String) throws {
        let name = "\(kind.rawValue)_\(domain)"
        if markersPresent.contains(name), let last = markerWritten[name], last.secondsAgo < 10 { return }
        guard Self.isSafeName(domain) else {
            if warnedNames.insert(domain).inserted {
                logger.warning("send limits: domain '\(domain)' cannot name a marker file; its limit is logged but exim cannot see it")
            }
            return
        }
        try write(name: "\(kind.rawValue)_\(domain)", content: content, refreshed: true)
    }

    /// `refreshed`: a count update from a batch (rate-limited); a reconcile's write is not.
    private func write(name: String, content: String, refreshed: Bool) throws {
        try FileManager.default.createDirectory(atPath: settings.limitsDirectory, withIntermediateDirectories: true)
        try AtomicFile.write(content, to: settings.limitsDirectory + "/" + name, mode: 0o644)
        markersPresent.insert(name)
        if refreshed { markerWritten[name] = .now }
    }

    /// A domain as a file name: letters, digits, `.-_`, not starting with a dot (a sender address
    /// on the command line of a local script can hold anything).
    static func isSafeName(_ domain: String) -> Bool {
        // max_deferfail_ + the domain must fit a 255-byte file name.
        guard let first = domain.unicodeScalars.first, first != ".", domain.utf8.count <= 240 else { return false }
        return domain.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "-" || $0 == "_" }
    }

    /// The notification command, off the engine's thread (the engine's `CommandRunner`, which sees
    /// it through before the process stops).
    private func notify(domain: String, kind: Kind, count: Int64, threshold: Int64) {
        guard let command = settings.notifyCommand else { return }
        commands.run(command, [domain, kind.rawValue, String(count), String(threshold)],
                     timeout: Double(settings.notifyTimeoutSeconds), what: "send limits: notify_command for \(domain)")
    }


    /// A remote delivery, as cPanel counts them: an SMTP transport to another host (`remote_smtp`,
    /// `dkim_remote_smtp`…), not a local mailbox, pipe, file or LMTP.
    static func isRemoteTransport(_ transport: ByteLine?) -> Bool {
        guard let t = transport else { return false }
        if t.firstIndex(of: "remote") != nil { return true }
        return t.firstIndex(of: "smtp") != nil && t.firstIndex(of: "lmtp") == nil
    }
}
