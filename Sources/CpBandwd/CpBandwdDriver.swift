import Foundation
import GRDB
import Logging
import TailWatchEngine

/// The cpbandwd driver: web access logs (cPanel's per-domain `domlogs` and vhost-first logs),
/// dovecot's session byte counts and FTP's xferlog →
/// bytes and requests per hosting account, domain, protocol and 5-minute bucket, rolled up into
/// hourly, daily and monthly totals in the same transaction as the file positions.
///
/// Which bytes: the response size field of the access logs (`DOMAIN`, `DOMAIN-ssl_log`), or, with
/// `use_bytes_logs = true`, the `DOMAIN-bytes_log` files instead (bytes in and out) — never both.
/// Owner: the domain in `userdomains`, else without a leading `www.`, else `UNKNOWN`.
public final class CpBandwdDriver: LogDriver {
    static let unknown = "UNKNOWN"

    enum FileKind {
        /// Access-log lines of one domain (from the file name), or of the vhost each line starts with.
        case access(domain: Int32?)
        case bytes(domain: Int32)
        case maillog
        case xferlog
        case skip
    }

    /// What each of the driver's sources is, in the order of `sources(_:)`.
    enum Role { case domlogs, maillog, xferlog, vhostLog }

    private let settings: CpBandwdSettings
    private let logger: Logger
    private let debug: Bool
    private let accounts: LiveUserDomains
    /// UNKNOWN rows are moved to their domains' owners in the first tick, and after each re-read of userdomains.
    private var unknownRowsChecked = false
    private let roles: [Role]
    private var mailParser: DovecotLogoutParser
    private var ftpParser: XferlogParser
    private let noDomainID: Int32
    private let names = NameTable()
    private let bytesParser = BytesLogParser()
    private let writer: BandwidthWriter
    private let limits: LimitEnforcer?
    private var lastLimitCheck = Deadline.distantPast
    private let unknownID: Int32
    private let protocolNames: [Int32]

    // Touched for every line, only ever from the engine's thread and never re-entrantly: the
    // dynamic exclusivity checks Swift makes on class properties would cost more than the access.
    @exclusivity(unchecked) private var kinds: [FileKind?] = []
    @exclusivity(unchecked) private var owners: [Int32] = []
    /// The batch's sums not yet written.
    @exclusivity(unchecked) private var sums = BandwidthSums()
    @exclusivity(unchecked) private var accessParser = AccessLogParser()

    /// The batch's sums already in the 5-minute table (`writeSettledBuckets`), per hour: what the
    /// hourly, daily and monthly rollups are made of at `flush`.
    private var written = BandwidthSums()
    /// The newest 5-minute bucket of the batch's access-log lines.
    private var newestBucket = Int64.min

    /// Large blocks of access-log lines (a catch-up) are parsed on two threads (`TwoThreadWalk`),
    /// each with a pass of its own; a live log's few new lines stay on this thread.
    private let passes = [AccessPass(), AccessPass()]
    static let piecesPerBlock = 8

    public static let descriptor = DriverDescriptor(
        name: "cpbandwd", version: "0.1.0",
        summary: "web, IMAP/POP3 and FTP logs → bytes per account, domain and protocol, monthly limits (tailwatch-report bandwidth)",
        migrations: MigrationSet(module: "CpBandwd", files: embeddedMigrationFiles)
    ) { section, engine throws(ConfigError) in
        let settings = try CpBandwdSettings(section)
        return ConfiguredDriver(enabled: settings.enabled, sources: sources(settings)) { context, db in
            try CpBandwdDriver(settings: settings, context: context, db: db)
        }
    }

    public static func sources(_ settings: CpBandwdSettings) -> [LogSource] {
        layout(settings).map(\.source)
    }

    static func layout(_ settings: CpBandwdSettings) -> [(source: LogSource, role: Role)] {
        var result: [(source: LogSource, role: Role)] = []
        if let domlogs = settings.domlogs { result.append((.folder(domlogs, pattern: "*"), .domlogs)) }
        if let maillog = settings.maillog { result.append((.file(maillog), .maillog)) }
        if let xferlog = settings.xferlog { result.append((.file(xferlog), .xferlog)) }
        return result + settings.accessLogs.map { (.file($0), .vhostLog) }
    }

    /// `db`: the connection the engine writes with (statements are prepared on it).
    public init(settings: CpBandwdSettings, context: DriverContext, db: Database) throws {
        self.settings = settings
        self.logger = context.logger
        self.debug = context.debug
        let accounts = try LiveUserDomains(path: context.settings.userdomains, logger: context.logger)
        self.accounts = accounts
        self.roles = Self.layout(settings).map(\.role)
        self.limits = settings.limits.map {
            LimitEnforcer(
                limitsPath: $0, limitedDirectory: settings.limitedDirectory, notifyCommand: settings.notifyCommand,
                notifyTimeout: Double(settings.notifyTimeoutSeconds), accounts: accounts, afterCommit: context.afterCommit,
                commands: context.commands, logger: context.logger)
        }
        self.mailParser = DovecotLogoutParser(zone: context.settings.timezone)
        self.ftpParser = XferlogParser(zone: context.settings.timezone)
        let names = self.names
        unknownID = names.id(for: Self.unknown)
        noDomainID = names.id(for: "")
        protocolNames = BandwidthProtocol.allCases.map { names.id(for: $0.rawValue) }
        writer = try BandwidthWriter(db, names: names, protocolNames: protocolNames)
    }

    // MARK: Lines

    public func ingest(_ line: ByteLine, from source: SourceFile) throws -> LineOutcome {
        switch kind(of: source) {
        case .skip:
            return .ignored
        case .xferlog:
            guard let transfer = ftpParser.parse(line) else { return .rejected(.notXferlog) }
            let (user, domain) = mailAccount(transfer.user)
            add(user: user, domain: domain, protocol: .ftp, time: transfer.time, bytes: transfer.bytes)
            return .stored(events: 1)
        case .maillog:
            guard let session = mailParser.parse(line) else { return .ignored }
            let (user, domain) = mailAccount(session.user)
            add(user: user, domain: domain, protocol: session.protocol, time: session.time, bytes: session.bytes)
            if debug { logger.debug("[debug] \(session.protocol.rawValue) \(session.user) \(session.bytes) bytes") }
            return .stored(events: 1)
        case .access(let fixed):
            return access(line, domain: fixed).map { .rejected($0) } ?? .stored(events: 1)
        case .bytes(let domain):
            guard let r = bytesParser.parse(line) else { return .rejected(.notBytesLog) }
            add(domain: domain, protocol: .http, time: r.time, bytes: r.bytes)
            return .stored(events: 1)
        }
    }

    /// Access logs, the bulk of what this driver reads, are walked here without a call per line;
    /// a large block (a catch-up) is parsed on two cores.
    public func ingest(_ block: inout LineBlock, from source: SourceFile) throws {
        guard case .access(let fixed) = kind(of: source), !debug else {
            while let line = block.next() { block.record(try ingest(line, from: source)) }
            return
        }
        guard TwoThreadWalk.worthIt(block) else {
            var parts = block.split(into: 1)
            passes[0].run(&parts[0], hasFixedDomain: fixed != nil)
            block.merge(parts)
            fold(passes[0], fixed: fixed)
            return
        }
        // A catch-up: a helper thread parses pieces of the block while this one writes the buckets
        // the batch has already settled, then joins in.
        let passes = self.passes
        do {
            try TwoThreadWalk.run(&block, pieces: Self.piecesPerBlock, beforehand: writeSettledBuckets) { _, worker, part in
                passes[worker].run(&part, hasFixedDomain: fixed != nil)
            }
        } catch {
            // The batch is rolled back and these lines will be read again: what the helper
            // parsed of them must not be folded into the next block.
            for pass in passes { pass.clearSums() }
            throw error
        }
        for pass in passes { fold(pass, fixed: fixed) }
    }

    /// A pass's sums into the batch's, its vhost ids turned into the driver's and given their owner.
    private func fold(_ pass: AccessPass, fixed: Int32?) {
        pass.sums.forEach { key, bytes, hits in
            let domain: Int32
            if key.domain == AccessPass.fixedDomain, let fixed {
                domain = fixed
            } else {
                while pass.driverIDs.count <= Int(key.domain) {
                    pass.driverIDs.append(names.id(for: pass.vhosts[bytes: Int32(pass.driverIDs.count)]))
                }
                domain = pass.driverIDs[Int(key.domain)]
            }
            sums.add(BandwidthKey(user: owner(of: domain), domain: domain, protocolIndex: key.protocolIndex, bucket: key.bucket), bytes: bytes, hits: hits)
            newestBucket = max(newestBucket, key.bucket)
        }
        pass.clearSums()
    }

    /// One access-log line (outside blocks: `--trace`, `--debug`) into the batch's sums; the reason
    /// when it is not a request.
    private func access(_ line: ByteLine, domain fixed: Int32?) -> RejectReason? {
        var domain: Int32
        var start = 0
        if let fixed {
            domain = fixed
        } else {
            guard let (host, rest) = AccessPass.vhost(of: line) else { return .noVhost }
            domain = names.id(for: host)
            start = rest
        }
        switch accessParser.parse(line, from: start) {
        case .request(let r):
            add(domain: domain, protocol: .http, time: r.time, bytes: r.bytes)
            if debug { logger.debug("[debug] \(names[domain]) \(r.bytes) bytes at \(r.time)") }
            return nil
        case .rejected(let reason):
            return reason
        }
    }

    private func kind(of source: SourceFile) -> FileKind {
        if source.id < kinds.count, let known = kinds[source.id] { return known }
        let kind = classify(source)
        if source.id >= kinds.count { kinds += Array(repeating: nil, count: source.id - kinds.count + 1) }
        kinds[source.id] = kind
        return kind
    }

    /// What a file is, from its name in the domlogs folder (other sources are vhost logs).
    private func classify(_ source: SourceFile) -> FileKind {
        switch roles[source.sourceIndex] {
        case .maillog: return .maillog
        case .xferlog: return .xferlog
        case .vhostLog: return .access(domain: nil)
        case .domlogs: break
        }
        let name = (source.path as NSString).lastPathComponent
        if name.hasSuffix("-bytes_log") {
            return settings.useBytesLogs ? .bytes(domain: names.id(for: String(name.dropLast("-bytes_log".count)))) : .skip
        }
        if settings.useBytesLogs { return .skip }
        if name.hasSuffix("-ssl_log") { return .access(domain: names.id(for: String(name.dropLast("-ssl_log".count)))) }
        // A domain name; anything else in the folder (ftpxferlog, *-ftp_log, *.offset, *.bkup) is not an access log.
        let skipped = [".offset", ".bkup", ".bak", ".tmp", ".gz"]
        guard name.contains("."), !name.contains("_log"), !skipped.contains(where: name.hasSuffix) else { return .skip }
        return .access(domain: names.id(for: name))
    }

    /// The account owning a domain: exact, else without `www.`, else UNKNOWN.
    private func owner(of domain: Int32) -> Int32 {
        if Int(domain) < owners.count, owners[Int(domain)] >= 0 { return owners[Int(domain)] }
        let bytes = names[bytes: domain]
        let userDomains = accounts.map
        var index = userDomains.userIndex(forDomain: bytes)
        if index == nil, bytes.count > 4, bytes.hasPrefix("www.") || bytes.hasPrefix("WWW.") {
            index = userDomains.userIndex(forDomain: bytes.slice(4..<bytes.count))
        }
        let user = index.map { names.id(for: userDomains.users[Int($0)]) } ?? unknownID
        if Int(domain) >= owners.count { owners += Array(repeating: -1, count: Int(domain) - owners.count + 1) }
        owners[Int(domain)] = user
        return user
    }

    /// A mail or FTP login: `user@domain` belongs to the domain's owner; a bare name is a system user.
    private func mailAccount(_ login: ByteLine) -> (user: Int32, domain: Int32) {
        guard let at = login.lastIndex(of: 0x40) else { return (names.id(for: login), noDomainID) }
        let domain = names.id(for: login.slice((at + 1)..<login.count))
        return (owner(of: domain), domain)
    }

    @inline(__always) private func add(domain: Int32, protocol p: BandwidthProtocol, time: Int64, bytes: Int64) {
        add(user: owner(of: domain), domain: domain, protocol: p, time: time, bytes: bytes)
    }

    @inline(__always) private func add(user: Int32, domain: Int32, protocol p: BandwidthProtocol, time: Int64, bytes: Int64) {
        sums.add(BandwidthKey(user: user, domain: domain, protocolIndex: p.index, bucket: BandwidthWriter.floor(time, 300)), bytes: bytes)
    }

    // MARK: Batches

    public func flush(_ db: Database) throws {
        guard !sums.isEmpty || !written.isEmpty else { return }
        try writer.addFiveMinutes(sums)
        written.add(sums, roundedTo: 3600)
        sums.removeAll()
        try writer.addRollups(written)
        if let limits {
            var touched: [String: (user: String, domain: String, month: Int64)] = [:]
            for key in written.allKeys where key.user != unknownID {
                let month = CivilTime.monthStart(ofUTC: key.bucket)
                touched["\(key.user)/\(month)"] = (names[key.user], names[key.domain], month)
            }
            try limits.check(db, touched: Array(touched.values), now: Int64(Date().timeIntervalSince1970))
        }
        written.removeAll()
        newestBucket = .min
    }

    /// During a catch-up, while the passes parse a block: the batch's 5-minute sums of buckets
    /// well behind the newest one go to the 5-minute table now (a log's lines come roughly in time
    /// order, so these are complete), on this thread, while the cores parse. They are kept in
    /// `written` for the hourly, daily and monthly rollups at `flush`. A line that arrives later
    /// for such a bucket only costs one more upsert.
    private func writeSettledBuckets() throws {
        guard newestBucket != .min else { return }
        let settled = newestBucket - 600
        let early = sums.remove { $0.bucket < settled }
        guard !early.isEmpty else { return }
        try writer.addFiveMinutes(early)
        written.add(early, roundedTo: 3600)
    }

    public func rollback() {
        sums.removeAll()
        written.removeAll()
        for pass in passes { pass.clearSums() }
        newestBucket = .min
    }

    /// 5-minute rows older than `keep_5min_days`, purged by the engine in slices (the hourly,
    /// daily and monthly rollups are kept).
    public var retention: [RetentionRule] {
        guard settings.keepFiveMinuteDays > 0 else { return [] }
        let keep = Int64(settings.keepFiveMinuteDays) * 86400
        return [RetentionRule(label: "5-minute bandwidth rows", table: "bandwidth_5min", column: "period",
                              key: ["period", "user", "domain", "protocol"]) { now in Int64(now.timeIntervalSince1970) - keep }]
    }

    /// Every second: a changed userdomains is re-read (and UNKNOWN rows of domains that now have an
    /// owner move to it). Once a minute (and at start): a changed limits file is re-read, accounts
    /// whose month ended or whose limit was raised are released.
    public func tick(_ db: Database, now: Date) throws {
        if accounts.reloadIfChanged() || !unknownRowsChecked {
            owners.removeAll()
            unknownRowsChecked = true
            try moveUnknownRows(db, now: now)
        }
        guard let limits, lastLimitCheck.secondsAgo >= 60 else { return }
        lastLimitCheck = .now
        limits.reloadIfChanged()
        try limits.reconcile(db, month: CivilTime.monthStart(ofUTC: Int64(now.timeIntervalSince1970)))
    }

    /// The traffic written as UNKNOWN of domains that have an owner now becomes the owner's, in all
    /// four tables; the owners' limits are checked against their new monthly totals.
    private func moveUnknownRows(_ db: Database, now: Date) throws {
        var moved: [String: String] = [:]
        for domain in try UnknownOwnerRows.domains(db, table: "bandwidth_monthly", unknown: Self.unknown) {
            let user = owner(of: names.id(for: domain))
            if user != unknownID { moved[domain] = names[user] }
        }
        guard !moved.isEmpty else { return }
        let rows = UnknownOwnerRows(unknown: Self.unknown, owners: moved)
        for table in ["bandwidth_5min", "bandwidth_hourly", "bandwidth_daily", "bandwidth_monthly"] {
            try rows.moveSums(db, table: table, keys: ["protocol", "period"], sums: ["bytes", "hits"])
        }
        logger.info("moved the UNKNOWN traffic of \(rows)")
        let seconds = Int64(now.timeIntervalSince1970)
        let month = CivilTime.monthStart(ofUTC: seconds)
        try limits?.check(db, touched: moved.map { (user: $0.value, domain: $0.key, month: month) }, now: seconds)
    }
}

extension RejectReason {
    static let noVhost = RejectReason("vhost log line without a leading vhost")
    static let notXferlog = RejectReason("not an xferlog line")
}
