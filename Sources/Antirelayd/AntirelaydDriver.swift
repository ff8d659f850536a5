import Foundation
import GRDB
import Logging
import TailWatchEngine

/// The antirelayd driver: successful POP3/IMAP logins in the maillog → relay authorisations
/// (POP-before-SMTP), and, when configured, the whitelist files exim reads, kept current.
///
/// Security boundary: only `LoginLineParser`'s logins count; loopback and the server's own
/// addresses never enter; a login older than the window when read (a backlog) is not stored. Rows,
/// file positions and the decision to export commit together; the files are written only after
/// the commit (so a rolled-back batch never reaches exim), and again when the oldest entry expires.
public final class AntirelaydDriver: LogDriver {
    private struct Key: Hashable {
        var ip: IPAddress
        var user: Int32
        var proto: MailLoginProtocol
    }

    private struct Seen {
        var first: Int64
        var last: Int64
        var count: Int64
    }

    private let settings: AntirelaydSettings
    private let logger: Logger
    private let debug: Bool
    private let clock: @Sendable () -> Date
    private var parser: LoginLineParser
    private var local: LocalAddresses
    private let users = NameTable()
    private var pending: [Key: Seen] = [:]
    private let upsert: PreparedStatement
    private let exporting: Bool
    private let afterCommit: AfterCommit
    private var exportedOnce = false
    /// Logins were committed since the whitelist was last read.
    private var exportDirty = false
    private var lastStage = Deadline.distantPast
    private var nextExpiry: Int64?
    private var alwaysRelay = AlwaysRelay()
    /// The always-relay file, read again whenever it is edited, replaced or deleted.
    private var alwaysRelayFile: EditedFile?
    private var lastPrune = Date.distantPast
    private var lastSlowCheck = Date.distantPast

    public static let descriptor = DriverDescriptor(
        name: "antirelayd", version: "1.0.0",
        summary: "successful POP3/IMAP logins in the maillog → relay whitelist for exim (tailwatch-report relayhosts)",
        migrations: MigrationSet(module: "Antirelayd", files: embeddedMigrationFiles)
    ) { section, engine throws(ConfigError) in
        let settings = try AntirelaydSettings(section)
        return ConfiguredDriver(enabled: settings.enabled, sources: [.file(settings.maillog)]) { context, db in
            try AntirelaydDriver(settings: settings, context: context, db: db)
        }
    }

    /// `clock` is the wall clock (tests move it); log timestamps are judged against it.
    /// `db`: the connection the engine writes with (statements are prepared on it).
    public init(settings: AntirelaydSettings, context: DriverContext, db: Database, clock: @escaping @Sendable () -> Date = Date.init) throws {
        self.settings = settings
        self.logger = context.logger
        self.debug = context.debug
        self.afterCommit = context.afterCommit
        self.clock = clock
        parser = LoginLineParser(zone: context.settings.timezone, now: clock)
        local = LocalAddresses(configured: settings.localAddresses)
        exporting = settings.export != nil || settings.exportUsers != nil
        alwaysRelayFile = settings.alwaysRelay.map { EditedFile(path: $0, readNow: false) }
        upsert = try PreparedStatement(db, sql: """
            INSERT INTO relay_auth (ip, user, protocol, first_login, last_login, logins) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (ip, user, protocol) DO UPDATE SET
                first_login = min(first_login, excluded.first_login),
                last_login = max(last_login, excluded.last_login),
                logins = logins + excluded.logins
            """)
        logger.info("relay window \(settings.expireMinutes) min; never whitelisted: loopback and \(local.networks.count) local address(es)")
    }

    // MARK: Lines

    public func ingest(_ line: ByteLine, from source: SourceFile) throws -> LineOutcome {
        switch parser.parse(line) {
        case .notLogin:
            return .ignored
        case .malformed(let reason):
            return .rejected(reason)
        case .login(let login):
            if local.excludes(login.ip) {
                if debug { logger.debug("[debug] login of \(login.user) from local address \(login.ip) not whitelisted") }
                return .ignored
            }
            // A clock a little ahead of ours cannot stretch the window: the login counts as made
            // now. Further ahead (an RFC 3339 stamp can say anything) it counts not at all.
            let now = Int64(clock().timeIntervalSince1970)
            guard login.time <= now + LoginLineParser.futureTolerance else { return .rejected(.loginInFuture) }
            let time = min(login.time, now)
            guard time > now - settings.windowSeconds else { return .ignored }
            let key = Key(ip: login.ip, user: users.id(for: login.user), proto: login.protocol)
            if var seen = pending[key] {
                seen.first = min(seen.first, time)
                seen.last = max(seen.last, time)
                seen.count += 1
                pending[key] = seen
            } else {
                pending[key] = Seen(first: time, last: time, count: 1)
            }
            if debug { logger.debug("[debug] \(login.protocol.rawValue) login \(login.user) from \(login.ip)") }
            return .stored(events: 1)
        }
    }

    // MARK: Batches

    public func flush(_ db: Database) throws {
        guard !pending.isEmpty else { return }
        for (key, seen) in pending {
            upsert.bind(1, key.ip.text)
            upsert.bind(2, users[bytes: key.user])
            upsert.bind(3, key.proto.rawValue)
            upsert.bind(4, seen.first)
            upsert.bind(5, seen.last)
            upsert.bind(6, seen.count)
            try upsert.run()
        }
        pending.removeAll(keepingCapacity: true)
        if users.count > 100_000 { users.removeAll() }
        // At most two reads of the whitelist a second while a backlog streams in; the tick picks
        // up the rest, so a new login reaches the files within about a second either way.
        if exporting {
            exportDirty = true
            if lastStage.secondsAgo >= 0.5 { try stage(db) }
        }
    }

    public func rollback() {
        pending.removeAll(keepingCapacity: true)
    }

    /// Writes the files exim reads; run after the commit of the transaction that read `whitelist`.
    private func export(_ whitelist: RelayWhitelist) throws {
        do {
            let written = try whitelist.export(hosts: settings.export, users: settings.exportUsers, mode: settings.exportMode)
            exportedOnce = true
            nextExpiry = whitelist.earliestExpiry
            if !written.isEmpty { logger.info("relay whitelist: \(whitelist.entries.count) host(s) → \(written.joined(separator: ", "))") }
        } catch {
            // The outbox reports it and tries again; the next tick also reads a fresh whitelist.
            exportedOnce = false
            throw error
        }
    }

    /// Every second: the whitelist is rewritten when an entry expired, at start, and when the
    /// always-relay file changed. Every minute: expired rows are pruned. Every 5 s: the
    /// always-relay file and the interfaces' addresses are looked at again. Time is the driver's
    /// clock (the wall clock, which tests move), like the window of `ingest`.
    public func tick(_ db: Database, now _: Date) throws {
        let date = clock()
        let now = Int64(date.timeIntervalSince1970)
        if date.timeIntervalSince(lastPrune) >= 60 {
            lastPrune = date
            try db.execute(sql: "DELETE FROM relay_auth WHERE last_login <= ?", arguments: [now - settings.windowSeconds])
        }
        guard exporting else { return }
        // Also once a minute whatever happened: the files are rebuilt from the database, so a
        // hand edit or another writer (a cron export with an older snapshot) lasts a minute at most.
        var due = !exportedOnce || exportDirty || (nextExpiry.map { now >= $0 } ?? false) || lastStage.secondsAgo >= 60
        if date.timeIntervalSince(lastSlowCheck) >= 5 {
            lastSlowCheck = date
            if let look = alwaysRelayFile?.look(), look != .unchanged, let path = settings.alwaysRelay {
                alwaysRelay = AlwaysRelay.load(path: path)
                for problem in alwaysRelay.problems { logger.warning("\(problem)") }
                due = true
            }
            let refreshed = LocalAddresses(configured: settings.localAddresses)
            if refreshed.networks != local.networks {
                local = refreshed
                due = true
            }
        }
        if due { try stage(db) }
    }

    private func stage(_ db: Database) throws {
        lastStage = .now
        var whitelist = try RelayWhitelist.load(db, now: Int64(clock().timeIntervalSince1970), windowSeconds: settings.windowSeconds, local: local)
        whitelist.merge(alwaysRelay)
        exportDirty = false
        // Written once the transaction that read it commits (a rolled-back batch never reaches
        // exim); a newer whitelist replaces one not written yet.
        afterCommit.add("relay whitelist export", key: "antirelayd.export", ifDropped: { self.exportDirty = true }) {
            try self.export(whitelist)
        }
    }

}
