import Foundation
import GRDB
import Logging
import TailWatchEngine

/// The eximstats driver: exim's mainlog → messages sent, deliveries, failures and deferrals per
/// hosting account, in `mail_arrivals`, `mail_deliveries`, `mail_rejects` (narrow rows: recurring
/// names are ids into `mail_names`) and the `mail_hourly` rollup.
///
/// Attribution (who "sent" a message): `A=…:user@domain` → the domain's owner in `userdomains`;
/// `A=…:name` → that system user; `P=local…` → `U=`; anything else → `-remote-`. Deliveries,
/// failures and deferrals belong to the sender of their message, found by message id in memory or
/// in `mail_arrivals` (so an arrival in an earlier batch, or before a restart, is still found).
public final class EximStatsDriver: LogDriver {
    static let remote = "-remote-"
    static let unknown = "UNKNOWN"

    private let settings: EximStatsSettings
    private let logger: Logger
    private let debug: Bool
    private let accounts: LiveUserDomains
    /// `accounts.map`, held here for the per-line lookups and replaced when the file is re-read.
    private var userDomains: UserDomains
    /// UNKNOWN rows are moved to their domains' owners in the first tick, and after each re-read of userdomains.
    private var unknownRowsChecked = false
    @exclusivity(unchecked) private var parser: EximLineParser
    /// For blocks parsed on two threads: a parser per thread, the pieces in flight, and the walk
    /// that writes them while the next block is parsed.
    private let parsers: [ParserBox]
    private let pieces: [ParsedPiece]
    private let cutoff = CutoffBox()
    private let pipeline: PipelinedWalk
    /// Accounts and domains as small ids, for the batch sums and the sender cache.
    private let names = NameTable()
    /// How many of `names` the write step was handed (`MailRowWriter.learn`).
    private var namesHandedOver = 0
    // Touched for every line, on one thread: no dynamic exclusivity checks (as for `lineCounts`, `parser`).
    @exclusivity(unchecked) private var senders = SenderCache<MessageSender>()
    @exclusivity(unchecked) private var hours: [HourKey: HourCounts] = [:]
    /// The write step: the only part that touches the database while a block is walked.
    private let rows: MailRowWriter
    /// The event of a line ingested alone (a live log's few new lines) and its sender, written at once.
    private var lineEvents: [EximEvent] = []
    private var lineSenders: [MessageSender?] = []
    private var retentionCutoff: Int64 = .min
    private let remoteID: Int32
    private let unknownID: Int32
    private let noDomainID: Int32
    private let limits: SendLimitEnforcer
    private let clock: @Sendable () -> Date

    /// Lines seen by kind since start (for `--status`, tests and the corpus check).
    @exclusivity(unchecked) public private(set) var lineCounts = [Int](repeating: 0, count: EximLineKind.allCases.count)

    public static let descriptor = DriverDescriptor(
        name: "eximstats", version: "1.0.0",
        summary: "exim mainlog → messages sent, delivered, failed and deferred per account (tailwatch-report mail)",
        migrations: MigrationSet(module: "EximStats", files: embeddedMigrationFiles)
    ) { section, engine throws(ConfigError) in
        let settings = try EximStatsSettings(section)
        return ConfiguredDriver(enabled: settings.enabled, sources: [.file(settings.log)]) { context, db in
            try EximStatsDriver(settings: settings, context: context, db: db)
        }
    }

    /// `clock` is the wall clock (tests move it): it decides which hour the sending limits enforce.
    /// `db`: the connection the engine writes with (statements are prepared on it).
    public init(settings: EximStatsSettings, context: DriverContext, db: Database, clock: @escaping @Sendable () -> Date = Date.init) throws {
        self.settings = settings
        self.logger = context.logger
        self.debug = context.debug
        self.clock = clock
        self.accounts = try LiveUserDomains(path: context.settings.userdomains, logger: context.logger)
        self.userDomains = accounts.map
        self.parser = EximLineParser(timezone: context.settings.timezone)
        let parsers = [ParserBox(parser), ParserBox(parser)]
        let pieces = (0..<Self.piecesPerBlock * 2).map { _ in ParsedPiece() }
        let rows = try MailRowWriter(db), cutoff = self.cutoff
        self.parsers = parsers
        self.pieces = pieces
        self.rows = rows
        pipeline = PipelinedWalk(slots: pieces.count, piecesPerBlock: Self.piecesPerBlock) { slot, worker, part in
            pieces[slot].parse(&part, with: parsers[worker], cutoff: cutoff.value)
        } finish: { slot in
            let piece = pieces[slot]
            rows.learn(piece.newNames)
            try rows.write(piece: piece.events, senders: piece.senders)
            piece.clear()
        }
        (remoteID, unknownID, noDomainID) = Self.internConstants(names)
        limits = SendLimitEnforcer(settings: settings, afterCommit: context.afterCommit, commands: context.commands, logger: context.logger, clock: clock)
        let started = Date()
        let filed = try rows.statements.fileRowsWithoutBlocks(db)
        if filed > 0 {
            context.logger.info("eximstats: filed \(filed) rows of the converted mail tables in search blocks in \(String(format: "%.1f", Date().timeIntervalSince(started))) s (once, after the upgrade)")
        }
        try limits.open(db)
        updateCutoff(now: clock())
        logger.info("eximstats reading \(settings.log); \(userDomains.domainCount) domains in userdomains; retention \(settings.retentionDays == 0 ? "unlimited" : "\(settings.retentionDays) days")")
    }

    /// Pieces a large block is cut into; twice as many are in flight (one block being written
    /// while the next is parsed).
    static let piecesPerBlock = 16

    private static func internConstants(_ names: NameTable) -> (Int32, Int32, Int32) {
        (names.id(for: remote), names.id(for: unknown), names.id(for: ""))
    }

    /// Past this many distinct names (remote sender domains are unbounded over a long log), the
    /// table and the sender cache that refers to it start afresh after a commit: memory stays
    /// bounded, and deliveries of older messages are attributed from `mail_arrivals` instead.
    public var maximumNames = 200_000


    private func updateCutoff(now: Date) {
        retentionCutoff = settings.retentionDays == 0 ? .min : Int64(now.timeIntervalSince1970) - Int64(settings.retentionDays) * 86400
    }

    // MARK: Lines

    public func ingest(_ line: ByteLine, from source: SourceFile) throws -> LineOutcome {
        // The engine settles the rows of earlier blocks before a line (`settle`).
        let outcome = try stage(line)
        try rows.writePending()
        return outcome
    }

    /// A line's rows, written, or waiting for a full multi-row INSERT (`MailRowWriter.writePending`
    /// before the line's bytes go).
    private func stage(_ line: ByteLine) throws -> LineOutcome {
        let event = parser.parse(line)
        if let outcome = Self.triage(event, cutoff: retentionCutoff, counts: &lineCounts) { return outcome }
        lineEvents.append(event)
        lineSenders.append(apply(event))
        rows.learn(newNames())
        defer {
            lineEvents.removeAll(keepingCapacity: true)
            lineSenders.removeAll(keepingCapacity: true)
        }
        try rows.write(lineEvents, senders: lineSenders)
        return .stored(events: 1)
    }

    /// A catch-up's large blocks are parsed on two threads, applied here in the log's order (so
    /// each delivery still finds its message's arrival), and their rows written in that order on
    /// whichever thread is free, while the next piece, and the next block, is parsed and applied
    /// (`PipelinedWalk`; the engine calls `settle` before anything else uses the database).
    public func ingest(_ block: inout LineBlock, from source: SourceFile) throws {
        guard !debug, TwoThreadWalk.worthIt(block) else {
            // The engine settles only before another driver's block: this one's last block first.
            try pipeline.settle()
            while let line = block.next() { block.record(try stage(line)) }
            try rows.writePending()
            return
        }
        cutoff.value = retentionCutoff
        let pieces = self.pieces
        try pipeline.run(&block) { slot in
            let piece = pieces[slot]
            for event in piece.events { piece.senders.append(apply(event)) }
            piece.newNames = newNames()
            for k in lineCounts.indices { lineCounts[k] += piece.counts[k] }
        }
    }

    public func settle() throws {
        try pipeline.settle()
    }

    /// The names `names` made since the write step was last handed them.
    private func newNames() -> [ByteLine] {
        guard namesHandedOver < names.count else { return [] }
        defer { namesHandedOver = names.count }
        return (namesHandedOver..<names.count).map { names[bytes: Int32($0)] }
    }

    /// Counts a parsed line by kind and says what it comes to, or nil when it is to be stored
    /// (`apply`). Lines older than `cutoff` (retention) are ignored.
    @inline(__always) static func triage(_ event: EximEvent, cutoff: Int64, counts: inout [Int]) -> LineOutcome? {
        let kind: EximLineKind, time: Int64
        switch event {
        case .arrival(let a): (kind, time) = (.arrival, a.time)
        case .delivery(let d, let k): (kind, time) = (k, d.time)
        case .failure(let d): (kind, time) = (.failure, d.time)
        case .deferral(let d): (kind, time) = (.deferral, d.time)
        case .rejection(let r): (kind, time) = (.rejection, r.time)
        case .ignored(let k):
            counts[k.rawValue] += 1
            return .ignored
        case .rejected(let fault):
            counts[EximLineKind.rejected.rawValue] += 1
            return .rejected(fault.reason)
        }
        guard time >= cutoff else {
            counts[EximLineKind.tooOld.rawValue] += 1
            return .ignored
        }
        counts[kind.rawValue] += 1
        return nil
    }

    /// Adds a line to the batch's sums and says who sent its message, when that is known (an
    /// event `triage` kept). No database here: the row is written by the write step (`MailRowWriter`).
    private func apply(_ event: EximEvent) -> MessageSender? {
        switch event {
        case .arrival(let a):
            let (user, domain) = attribute(a)
            let sender = MessageSender.make(.init(user: user, domain: domain), address: a.sender)
            senders.remember(sender, for: MessageKey(a.messageID))
            hours[HourKey(user: user, domain: domain, hour: MailReport.floorHour(a.time)), default: HourCounts()].addSent(size: a.size)
            if user != remoteID, domain != noDomainID, limits.isCurrent(a.time) { limits.addSent(domain: domain) }
            if debug { logger.debug("[debug] <= \(a.messageID) from \(a.sender) (\(a.size) bytes) as \(names[user])") }
            return sender
        case .delivery(let d, let kind):
            return delivery(d, DeliveryKind(kind))
        case .failure(let d):
            return delivery(d, .failed)
        case .deferral(let d):
            return delivery(d, .deferred)
        case .rejection, .ignored, .rejected:
            return nil
        }
    }

    /// A delivery, failure or deferral: counted for its message's sender when that is in memory;
    /// else the write step finds the sender and the row is counted at the commit (`LateCount`).
    @inline(__always) private func delivery(_ d: EximDelivery, _ kind: DeliveryKind) -> MessageSender? {
        guard let sender = senders.sender(of: MessageKey(d.messageID)) else {
            if debug { logger.debug("[debug] \(kind.symbol) \(d.messageID) to \(d.recipient): sender looked up in mail_arrivals") }
            return nil
        }
        count(kind, user: sender.user, domain: sender.domain, time: d.time, remote: SendLimitEnforcer.isRemoteTransport(d.transport))
        if debug { logger.debug("[debug] \(kind.symbol) \(d.messageID) to \(d.recipient) for \(names[sender.user])") }
        return sender
    }

    /// Adds a delivery, failure or deferral to the hourly sums and the sending limits.
    @inline(__always) private func count(_ kind: DeliveryKind, user: Int32, domain: Int32, time: Int64, remote: Bool) {
        let key = HourKey(user: user, domain: domain, hour: MailReport.floorHour(time))
        let limited = user != remoteID && domain != noDomainID && limits.isCurrent(time)
        // One lookup of the hour's sums (each `hours[key]` hashes the key).
        hours[key, default: HourCounts()].add(kind, remote: remote)
        switch kind {
        case .delivered, .additionalAddress, .cutthrough:
            if remote && limited { limits.addRemoteDelivery(domain: domain) }
        case .failed, .deferred:
            if limited { limits.addDeferFail(domain: domain) }
        }
    }

    /// Who a message is attributed to; see the type's documentation. The domain of mail a system
    /// or local user sends is the sender address's domain only when that user owns it (a script's
    /// `-f` can name anyone's domain), else the user's first domain in `userdomains`, else none.
    private func attribute(_ a: EximArrival) -> (user: Int32, domain: Int32) {
        let senderDomain = Self.domain(of: a.sender)
        if let id = a.authID {
            if let at = id.lastIndex(of: 0x40) {
                let domain = id.slice((at + 1)..<id.count)
                let domainID = names.id(for: domain)
                if let owner = userDomains.userIndex(forDomain: domain) {
                    return (names.id(for: userDomains.users[Int(owner)]), domainID)
                }
                return (unknownID, domainID)
            }
            return (names.id(for: id), ownedDomain(of: id, claimed: senderDomain))
        }
        if let proto = a.proto, proto.hasPrefix("local") {
            guard let local = a.localUser else { return (unknownID, noDomainID) }
            return (names.id(for: local), ownedDomain(of: local, claimed: senderDomain))
        }
        return (remoteID, senderDomain.map { names.id(for: $0) } ?? noDomainID)
    }

    /// `claimed` when `user` owns it, else the user's first domain, else no domain.
    private func ownedDomain(of user: ByteLine, claimed: ByteLine?) -> Int32 {
        if let claimed, let owner = userDomains.userIndex(forDomain: claimed), userDomains.users[Int(owner)] == user.string {
            return names.id(for: claimed)
        }
        if let first = userDomains.domains(of: user.string).first { return names.id(for: first) }
        return noDomainID
    }

    static func domain(of address: ByteLine) -> ByteLine? {
        let a = address.trimmingAngleBrackets
        guard let at = a.lastIndex(of: 0x40), at + 1 < a.count else { return nil }
        return a.slice((at + 1)..<a.count)
    }

    // MARK: Batches

    public func flush(_ db: Database) throws {
        // Settled by the engine before the commit; the last rows may still wait for a full set.
        try rows.writePending()
        try rows.statements.flush()
        // Deliveries whose sender the write step found in `mail_arrivals` are counted now.
        for late in rows.takeLate() {
            count(late.kind, user: names.id(for: late.user), domain: names.id(for: late.domain), time: late.time, remote: late.remote)
        }
        guard !hours.isEmpty else { return }
        // In the table's order (`mail_hourly`'s key: hour, then user and domain as bytes): the rows
        // go in at its end, page after page, however much larger than the page cache the table is.
        // The keys alone are sorted (a third of the bytes of keys with their sums): during a
        // catch-up a batch holds tens of thousands of hours.
        let names = self.names
        let rank = nameRanks(hours.keys)
        var keys = Array(hours.keys)
        keys.sort { x, y in
            if x.hour != y.hour { return x.hour < y.hour }
            if x.user != y.user { return rank[Int(x.user)] < rank[Int(y.user)] }
            return rank[Int(x.domain)] < rank[Int(y.domain)]
        }
        for key in keys {
            try rows.statements.addHour(user: names[bytes: key.user], domain: names[bytes: key.domain], hour: key.hour, hours[key]!)
        }
        hours.removeAll(keepingCapacity: true)
        try limits.flush(db) { names[$0] }
        if names.count > maximumNames {
            names.removeAll()
            rows.forgetNames()
            namesHandedOver = 0
            senders.removeAll()
            let constants = Self.internConstants(names)
            precondition(constants == (remoteID, unknownID, noDomainID), "constant names must keep their ids")
        }
    }

    /// The order of the names the hours use, by their bytes, as a number per `NameTable` id: the
    /// hours then sort on integers (a few hundred names sorted once, instead of their bytes
    /// compared for each of the thousands of comparisons of a batch's hours).
    private func nameRanks(_ keys: Dictionary<HourKey, HourCounts>.Keys) -> [Int32] {
        var used = Set<Int32>()
        for key in keys {
            used.insert(key.user)
            used.insert(key.domain)
        }
        var rank = [Int32](repeating: 0, count: names.count)
        for (k, id) in used.sorted(by: { names[bytes: $0].sortsBefore(names[bytes: $1]) }).enumerated() { rank[Int(id)] = Int32(k) }
        return rank
    }

    public func rollback() {
        // Pieces applied but not written are the batch's: forgotten with it.
        pipeline.reset()
        for piece in pieces { piece.clear() }
        hours.removeAll(keepingCapacity: true)
        limits.rollback()
        // Cached senders hold `mail_names` ids (their domains), which may be of names inserted by the failed batch:
        // forget them (the lines are read again; earlier messages are found in `mail_arrivals`).
        senders.removeAll()
        rows.rollback()
        // Pieces applied but never written took the names they made with them: hand every name over again.
        rows.forgetNames()
        namesHandedOver = 0
    }

    public func close() {
        pipeline.stop()
    }

    /// Every second: userdomains, if it changed (mail of domains that now have an owner moves to
    /// it); the sending limits' hour and file.
    public func tick(_ db: Database, now _: Date) throws {
        let now = clock()
        if accounts.reloadIfChanged() || !unknownRowsChecked {
            userDomains = accounts.map
            unknownRowsChecked = true
            try moveUnknownRows(db)
        }
        try limits.tick(db, now: now)
        updateCutoff(now: now)
    }

    /// Rows older than `retention_days` (the event tables by their time-keyed ids, the hourly
    /// rollup by its hour), purged by the engine in slices.
    public var retention: [RetentionRule] {
        guard settings.retentionDays > 0 else { return [] }
        let keep = Int64(settings.retentionDays) * 86400, clock = self.clock, slice = purgeSlice
        let events = EximStatsWriter.keyedTables.map { table in
            RetentionRule(label: "\(table) rows", table: table, column: "id", firstSlice: slice) { _ in
                let cutoff = Int64(clock().timeIntervalSince1970) - keep
                return TimeKeyedIDs.range(from: cutoff, to: cutoff).lower
            }
        }
        // A search block goes with the last of its rows.
        let blocks = RetentionRule(label: "mail search blocks", table: "mail_search_blocks", column: "max_id", firstSlice: slice) { _ in
            let cutoff = Int64(clock().timeIntervalSince1970) - keep
            return TimeKeyedIDs.range(from: cutoff, to: cutoff).lower
        }
        let hourly = RetentionRule(label: "hourly mail rows", table: "mail_hourly", column: "hour", key: ["hour", "user", "domain"], firstSlice: slice) { _ in
            MailReport.floorHour(Int64(clock().timeIntervalSince1970) - keep)
        }
        return events + [blocks, hourly]
    }

    /// The mail written as UNKNOWN of domains that have an owner now becomes the owner's: the
    /// event tables and the hourly rollup, in the tick's transaction. Cached senders are dropped so
    /// deliveries of those messages find the new owner in `mail_arrivals`.
    private func moveUnknownRows(_ db: Database) throws {
        var moved: [String: String] = [:]
        for domain in try UnknownOwnerRows.domains(db, table: "mail_hourly", unknown: Self.unknown) {
            if let user = userDomains.user(forDomain: domain) { moved[domain] = user }
        }
        guard !moved.isEmpty else { return }
        senders.removeAll()
        rows.forgetFoundSenders()
        let mail = rows.mail
        let unknown = try mail.id(Self.unknown)
        try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS moved_domains (domain INTEGER PRIMARY KEY, owner INTEGER NOT NULL)")
        try db.execute(sql: "DELETE FROM moved_domains")
        for (domain, owner) in moved {
            try db.execute(sql: "INSERT INTO moved_domains VALUES (?, ?)", arguments: [try mail.id(domain), try mail.id(owner)])
        }
        for table in ["mail_arrivals", "mail_deliveries"] {
            try db.execute(sql: """
                UPDATE \(table) SET user = m.owner FROM moved_domains m WHERE \(table).user = ? AND \(table).domain = m.domain
                """, arguments: [unknown])
        }
        try db.execute(sql: "DELETE FROM moved_domains")
        let rows = UnknownOwnerRows(unknown: Self.unknown, owners: moved)
        try rows.moveSums(db, table: "mail_hourly", keys: ["hour"], sums: ["sent", "sent_bytes", "delivered", "failed", "deferred", "remote_delivered"])
        logger.info("moved the UNKNOWN mail of \(rows)")
    }

    /// Rows of each table in a purge's first slice (later ones are sized by time; `RetentionPurge`).
    public var purgeSlice = 20_000
}
