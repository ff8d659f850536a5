import GRDB
import TailWatchEngine

/// The eximstats driver's prepared statements: one per row shape, bound from the line's bytes and
/// the ids of `MailNames`.
///
/// Arrivals and deliveries, most of a mainlog's rows, wait in memory and go in
/// `rowsPerInsert` at a time, by one multi-row INSERT: SQLite's cost per statement (running the
/// program, finding the table's last page) is then paid once for them all. No row may outlive the
/// bytes it borrows: `insertPending` writes the rest after a line ingested alone, a small block,
/// and at the commit; rows of a block's piece wait at most until the next piece is written
/// (`beginPiece`, `endPiece`); `sender(of:)` writes the waiting arrivals before it reads the table.
/// (16 rows a statement, 64 or 128: no difference measured.)
///
/// The multi-row INSERT is `OR IGNORE`, and used only when none of its ids can collide: every one
/// is above the highest the table holds, or (lines older than rows already stored: a log read
/// again into a database that holds later days) one lookup found none of them taken. A plain
/// multi-row INSERT makes SQLite copy every page it touches to a statement journal first, to undo
/// a half-done statement, which cost more than the batching saved (measured: 8× the page writes).
/// Other rows go one at a time, with the collision check of `runKeyed`.
final class EximStatsWriter {
    static let rowsPerInsert = 16
    @exclusivity(unchecked) private var arrivalRows: KeyedTable
    @exclusivity(unchecked) private var deliveryRows: KeyedTable
    // Touched for every row: no dynamic exclusivity checks (one thread at a time, no reentrancy).
    @exclusivity(unchecked) private var arrivals: [PendingArrival] = []
    @exclusivity(unchecked) private var deliveries: [PendingDelivery] = []
    private let insertReject: PreparedStatement
    private let findSender: PreparedStatement
    private let upsertHour: PreparedStatement
    @exclusivity(unchecked) private var ids: TimeKeyedIDs
    private let blocks: SearchBlocks
    /// The last router, transport, host and IP and their ids: they repeat from line to line.
    @exclusivity(unchecked) private var recent = [MailNames.Recent](repeating: .init(), count: 4)

    static let keyedTables = ["mail_arrivals", "mail_deliveries", "mail_rejects"]

    init(_ db: Database) throws {
        let highest = try Self.keyedTables.map { try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM \($0)") }
        ids = TimeKeyedIDs(highestInUse: highest.compactMap { $0 }.max())
        blocks = try SearchBlocks(db)
        arrivalRows = try KeyedTable(db, table: "mail_arrivals", columns: "id, msgid, user, domain, sender, size, recipients, host, ip, protocol, auth", highest: highest[0])
        deliveryRows = try KeyedTable(
            db, table: "mail_deliveries",
            columns: "id, msgid, kind, user, domain, sender, sender_domain, recipient, recipient_domain, router, transport, host, ip, message",
            highest: highest[1])
        insertReject = try PreparedStatement(db, sql: """
            INSERT INTO mail_rejects (id, msgid, temporary, host, ip, sender, sender_domain, recipient, recipient_domain, message) VALUES
            """ + Self.values(PendingReject.columns, rows: 1))
        findSender = try PreparedStatement(db, sql: """
            SELECT u.name, d.name, a.sender FROM mail_arrivals a
            JOIN mail_names u ON u.id = a.user JOIN mail_names d ON d.id = a.domain
            WHERE a.msgid = ? ORDER BY a.id DESC LIMIT 1
            """)
        upsertHour = try PreparedStatement(db, sql: """
            INSERT INTO mail_hourly (user, domain, hour, sent, sent_bytes, delivered, failed, deferred, remote_delivered)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (hour, user, domain) DO UPDATE SET
                sent = sent + excluded.sent, sent_bytes = sent_bytes + excluded.sent_bytes,
                delivered = delivered + excluded.delivered, failed = failed + excluded.failed,
                deferred = deferred + excluded.deferred, remote_delivered = remote_delivered + excluded.remote_delivered
            """)
    }

    static func values(_ columns: Int, rows: Int) -> String {
        let row = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
        return Array(repeating: row, count: rows).joined(separator: ", ")
    }

    /// An arrival (its sender, client host and IP as text; the rest as ids), written by `insertPending`.
    func arrival(_ a: EximArrival, user: Int64, domain: Int64, names: MailNames) throws {
        arrivals.append(PendingArrival(
            id: ids.next(for: a.time), time: a.time, messageID: a.messageID, sender: a.sender, size: a.size, host: a.host, ip: a.ip,
            user: user, domain: domain, recipients: a.recipientCount, proto: try names.id(a.proto), auth: try names.id(a.auth)))
        if arrivals.count == Self.rowsPerInsert { try insert(&arrivals, into: &arrivalRows) }
    }

    /// A delivery, failure or deferral; the error text only for the last two. `sender`: the
    /// message's envelope sender as its arrival logged it (nil when that is not known), and the id
    /// of its domain. Written by `insertPending`.
    func delivery(_ d: EximDelivery, kind: DeliveryKind, user: Int64, domain: Int64, sender: MessageSender?, senderDomain: Int64?, names: MailNames) throws {
        deliveries.append(PendingDelivery(
            id: ids.next(for: d.time), time: d.time, messageID: d.messageID, recipient: d.recipient, recipientKey: d.recipientKey,
            error: kind.isDelivered ? nil : d.error,
            kind: kind, user: user, domain: domain, sender: sender, senderDomain: senderDomain,
            recipientDomain: try names.domain(ofAddress: d.recipient),
            router: try names.id(d.router, sameAs: &recent[0]), transport: try names.id(d.transport, sameAs: &recent[1]),
            host: try names.id(d.host, sameAs: &recent[2]), ip: try names.id(d.ip, sameAs: &recent[3])))
        if deliveries.count == Self.rowsPerInsert { try insert(&deliveries, into: &deliveryRows) }
    }

    /// Writes the arrivals and deliveries waiting for a full multi-row INSERT.
    func insertPending() throws {
        if !arrivals.isEmpty { try insert(&arrivals, into: &arrivalRows) }
        if !deliveries.isEmpty { try insert(&deliveries, into: &deliveryRows) }
    }

    /// A piece's rows come next: the rows waiting now are of earlier pieces.
    func beginPiece() {
        arrivalRows.carried = !arrivals.isEmpty
        deliveryRows.carried = !deliveries.isEmpty
    }

    /// The piece's rows are in: those of earlier pieces still waiting are written now, so that
    /// the rows left waiting borrow the bytes of this piece only.
    func endPiece() throws {
        if arrivalRows.carried { try insert(&arrivals, into: &arrivalRows) }
        if deliveryRows.carried { try insert(&deliveries, into: &deliveryRows) }
    }

    /// A full set whose ids are free by the multi-row statement, else each row by itself
    /// (`runKeyed`). Then the rows' search keys.
    @inline(__always) private func insert<Row: PendingRow>(_ rows: inout [Row], into table: inout KeyedTable) throws {
        defer {
            rows.removeAll(keepingCapacity: true)
            table.carried = false
        }
        if rows.count == Self.rowsPerInsert, try table.free(rows) {
            let wide = table.wide
            for (k, row) in rows.enumerated() { row.bind(wide, at: Int32(k * Row.columns)) }
            try wide.run()
            // Nothing may have been ignored: the ids were free and every NOT NULL column is bound.
            guard wide.changes == rows.count else {
                throw StoreError.sqlite(code: 0, message: "\(rows.count - wide.changes) of \(rows.count) mail rows were refused with their ids free (a constraint of the table)", sql: "INSERT OR IGNORE")
            }
        } else {
            for k in rows.indices { rows[k].id = try runKeyed(table.single, rows[k]) }
        }
        for row in rows {
            table.highest = max(table.highest, row.id)
            try row.file(in: blocks)
        }
    }

    /// A rejection, written at once (they are few).
    func reject(_ r: EximRejection, names: MailNames) throws {
        var row = PendingReject(
            id: ids.next(for: r.time), rejection: r,
            senderDomain: try names.domain(ofAddress: r.sender), recipientDomain: try names.domain(ofAddress: r.recipient))
        row.id = try runKeyed(insertReject, row)
        try row.file(in: blocks)
    }

    /// See `SearchBlocks.fileRowsWithoutBlocks`.
    func fileRowsWithoutBlocks(_ db: Database) throws -> Int { try blocks.fileRowsWithoutBlocks(db) }

    /// Writes the search blocks being filled (at every commit).
    func flush() throws { try blocks.flush() }

    /// After a failed commit (with `MailNames.rollback`): ids of names that batch inserted are gone.
    func rollback() {
        arrivals.removeAll()
        deliveries.removeAll()
        (arrivalRows.carried, deliveryRows.carried) = (false, false)
        blocks.rollback()
        recent = [MailNames.Recent](repeating: .init(), count: 4)
    }

    /// Runs the insert of one row, its id first, then the next numbers on a collision.
    private func runKeyed<Row: PendingRow>(_ s: PreparedStatement, _ row: Row) throws -> Int64 {
        var row = row
        for _ in 0..<TimeKeyedIDs.sequenceMask {
            row.bind(s, at: 0)
            do {
                try s.run()
                return row.id
            } catch StoreError.sqlite(let code, _, _) where code == PreparedStatement.primaryKeyConflict {
                row.id = ids.next(for: row.time)
            }
        }
        throw StoreError.sqlite(code: PreparedStatement.primaryKeyConflict, message: "no free row id in second \(row.time)", sql: "INSERT")
    }

    /// The account, domain and sender address (its exact bytes) recorded for a message's arrival, if it is stored.
    func sender(of messageID: ByteLine) throws -> (user: String, domain: String, address: [UInt8])? {
        // Only an arrival still waiting for its INSERT could be missed; deliveries wait on.
        // (Equal ids make equal keys; a key shared by two ids would only write the arrivals early.)
        let key = MessageKey(messageID)
        if arrivals.contains(where: { MessageKey($0.messageID) == key }) { try insert(&arrivals, into: &arrivalRows) }
        findSender.bind(1, messageID)
        return try findSender.queryRow { row in (row.text(0) ?? EximStatsDriver.unknown, row.text(1) ?? "", row.bytes(2) ?? []) }
    }

    func addHour(user: ByteLine, domain: ByteLine, hour: Int64, _ c: HourCounts) throws {
        let s = upsertHour
        s.bind(1, user)
        s.bind(2, domain)
        s.bind(3, hour)
        s.bind(4, c.sent)
        s.bind(5, c.sentBytes)
        s.bind(6, c.delivered)
        s.bind(7, c.failed)
        s.bind(8, c.deferred)
        s.bind(9, c.remoteDelivered)
        try s.run()
    }
}

/// One table's INSERTs for `EximStatsWriter.insert`, and the highest id it may hold.
private struct KeyedTable {
    let single: PreparedStatement
    let wide: PreparedStatement
    /// Whether any of `rowsPerInsert` ids is taken.
    let taken: PreparedStatement
    /// Read at start, raised by every insert. After a failed commit it may be above the table's
    /// (rows rolled back), which only costs a lookup (`free`).
    var highest: Int64
    /// Whether rows of an earlier piece wait for this table's INSERT (`beginPiece`, `endPiece`).
    var carried = false

    init(_ db: Database, table: String, columns: String, highest: Int64?) throws {
        let count = columns.split(separator: ",").count, into = "INTO \(table) (\(columns)) VALUES "
        single = try PreparedStatement(db, sql: "INSERT " + into + EximStatsWriter.values(count, rows: 1))
        wide = try PreparedStatement(db, sql: "INSERT OR IGNORE " + into + EximStatsWriter.values(count, rows: EximStatsWriter.rowsPerInsert))
        let ids = Array(repeating: "?", count: EximStatsWriter.rowsPerInsert).joined(separator: ", ")
        taken = try PreparedStatement(db, sql: "SELECT EXISTS (SELECT 1 FROM \(table) WHERE id IN (\(ids)))")
        self.highest = highest ?? .min
    }

    /// Whether none of the rows' ids is in the table: at once when all are above its highest,
    /// else by one lookup.
    @inline(__always) func free<Row: PendingRow>(_ rows: [Row]) throws -> Bool {
        if rows.allSatisfy({ $0.id > highest }) { return true }
        for (k, row) in rows.enumerated() { taken.bind(Int32(k + 1), row.id) }
        return try taken.queryRow { $0.int64(0) } == 0
    }
}

/// A row waiting for `EximStatsWriter`'s multi-row INSERT: what it binds, and the search keys it
/// is filed under once its id is final.
protocol PendingRow {
    static var columns: Int { get }
    var id: Int64 { get set }
    var time: Int64 { get }
    /// Binds the row's columns as parameters `offset + 1 ...` (its id first).
    func bind(_ s: PreparedStatement, at offset: Int32)
    func file(in blocks: SearchBlocks) throws
}

/// The columns only: the line's other fields stay behind (each row is copied a few times on its way).
struct PendingArrival: PendingRow {
    static let columns = 11
    var id: Int64
    let time: Int64
    let messageID: ByteLine, sender: ByteLine
    let size: Int64
    let host: ByteLine?, ip: ByteLine?
    let user: Int64, domain: Int64, recipients: Int64
    let proto: Int64?, auth: Int64?

    @inline(__always) func bind(_ s: PreparedStatement, at k: Int32) {
        s.bind(k + 1, id)
        s.bind(k + 2, messageID)
        s.bind(k + 3, user)
        s.bind(k + 4, domain)
        s.bind(k + 5, sender)
        s.bind(k + 6, size)
        s.bind(k + 7, recipients)
        s.bind(k + 8, host)
        s.bind(k + 9, ip)
        s.bind(k + 10, proto)
        s.bind(k + 11, auth)
    }

    func file(in blocks: SearchBlocks) throws {}
}

/// The columns only, as `PendingArrival`; `error` only for a failure or deferral.
struct PendingDelivery: PendingRow {
    static let columns = 14
    var id: Int64
    let time: Int64
    let messageID: ByteLine, recipient: ByteLine
    let recipientKey: UInt64
    let error: ByteLine?
    let kind: DeliveryKind
    let user: Int64, domain: Int64
    /// Held so that its bytes stay where they are until the row is written.
    let sender: MessageSender?
    let senderDomain: Int64?, recipientDomain: Int64?
    let router: Int64?, transport: Int64?, host: Int64?, ip: Int64?

    @inline(__always) func bind(_ s: PreparedStatement, at k: Int32) {
        s.bind(k + 1, id)
        s.bind(k + 2, messageID)
        s.bind(k + 3, kind.rawValue)
        s.bind(k + 4, user)
        s.bind(k + 5, domain)
        s.bind(k + 6, sender?.address)
        s.bind(k + 7, senderDomain)
        s.bind(k + 8, recipient)
        s.bind(k + 9, recipientDomain)
        s.bind(k + 10, router)
        s.bind(k + 11, transport)
        s.bind(k + 12, host)
        s.bind(k + 13, ip)
        s.bind(k + 14, error)
    }

    @inline(__always) func file(in blocks: SearchBlocks) throws {
        try blocks.add(.deliveries, rowID: id, .init(
            sender: sender?.key, senderDomain: senderDomain, recipient: recipientKey, recipientDomain: recipientDomain,
            user: user, message: MessageKey(messageID)))
    }
}

struct PendingReject: PendingRow {
    static let columns = 10
    var id: Int64
    let rejection: EximRejection
    let senderDomain: Int64?, recipientDomain: Int64?
    var time: Int64 { rejection.time }

    func bind(_ s: PreparedStatement, at k: Int32) {
        let r = rejection
        s.bind(k + 1, id)
        s.bind(k + 2, r.messageID)
        s.bind(k + 3, r.temporary ? 1 : 0)
        s.bind(k + 4, r.host)
        s.bind(k + 5, r.ip)
        s.bind(k + 6, r.sender)
        s.bind(k + 7, senderDomain)
        s.bind(k + 8, r.recipient)
        s.bind(k + 9, recipientDomain)
        s.bind(k + 10, r.reason)
    }

    func file(in blocks: SearchBlocks) throws {
        try blocks.add(.rejects, rowID: id, .init(
            sender: rejection.sender.map(SearchKey.address), senderDomain: senderDomain, recipient: rejection.recipient.map(SearchKey.address),
            recipientDomain: recipientDomain, user: nil, message: rejection.messageID.map(MessageKey.init)))
    }
}

/// What became of one attempt to deliver a message to one address, as stored in
/// `mail_deliveries.kind`.
enum DeliveryKind: Int64 {
    case delivered = 1           // =>
    case additionalAddress = 2   // -> (another address of the same delivery)
    case cutthrough = 3          // >>
    case failed = 4              // **
    case deferred = 5            // ==

    var isDelivered: Bool { rawValue <= 3 }

    /// A delivery line's kind (`=>`, `->`, `>>`).
    @inline(__always) init(_ line: EximLineKind) {
        self = line == .delivery ? .delivered : line == .additionalDelivery ? .additionalAddress : .cutthrough
    }

    /// As the mainlog writes it (for `--debug`).
    var symbol: String {
        switch self {
        case .delivered: "=>"
        case .additionalAddress: "->"
        case .cutthrough: ">>"
        case .failed: "**"
        case .deferred: "=="
        }
    }
}

/// Counts for one account, domain and hour, summed in memory over a batch.
struct HourCounts {
    var sent: Int64 = 0
    var sentBytes: Int64 = 0
    var delivered: Int64 = 0
    var failed: Int64 = 0
    var deferred: Int64 = 0
    /// Deliveries to remote hosts (what sending limits count).
    var remoteDelivered: Int64 = 0

    @inline(__always) mutating func addSent(size: Int64) {
        sent &+= 1
        sentBytes &+= size
    }

    /// A delivery attempt of `kind`; `remote`: by a transport to another host.
    @inline(__always) mutating func add(_ kind: DeliveryKind, remote: Bool) {
        switch kind {
        case .delivered, .additionalAddress, .cutthrough:
            delivered &+= 1
            if remote { remoteDelivered &+= 1 }
        case .failed: failed &+= 1
        case .deferred: deferred &+= 1
        }
    }
}

struct HourKey: Hashable {
    var user: Int32
    var domain: Int32
    var hour: Int64

    /// `Dictionary`'s hash of the key, without `Hasher` (see `WordHash`): looked up for nearly
    /// every line.
    @inline(__always) func _rawHashValue(seed: Int) -> Int {
        var h = WordHash(seed: seed)
        h.combine(UInt64(UInt32(bitPattern: user)) << 32 | UInt64(UInt32(bitPattern: domain)))
        h.combine(UInt64(bitPattern: hour))
        return h.finish()
    }
}
