import GRDB
import TailWatchEngine

/// The eximstats driver's prepared statements: one per row shape, bound from the line's bytes and
/// the ids of `MailNames`.
final class EximStatsWriter {
    private let insertArrival: PreparedStatement
    private let insertDelivery: PreparedStatement
    private let insertReject: PreparedStatement
    private let findSender: PreparedStatement
    private let upsertHour: PreparedStatement
    private var ids: TimeKeyedIDs
    private let blocks: SearchBlocks
    /// The last router, transport, host and IP and their ids: they repeat from line to line.
    private var recent = [MailNames.Recent](repeating: .init(), count: 4)

    static let keyedTables = ["mail_arrivals", "mail_deliveries", "mail_rejects"]

    init(_ db: Database) throws {
        let highest = try Self.keyedTables.compactMap { try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM \($0)") }.max()
        ids = TimeKeyedIDs(highestInUse: highest)
        blocks = try SearchBlocks(db)
        insertArrival = try PreparedStatement(db, sql: """
            INSERT INTO mail_arrivals (id, msgid, user, domain, sender, size, recipients, host, ip, protocol, auth)
            VALUES (?11, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
            """)
        insertDelivery = try PreparedStatement(db, sql: """
            INSERT INTO mail_deliveries (id, msgid, kind, user, domain, sender, sender_domain, recipient, recipient_domain, router, transport, host, ip, message)
            VALUES (?14, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
            """)
        insertReject = try PreparedStatement(db, sql: """
            INSERT INTO mail_rejects (id, msgid, temporary, host, ip, sender, sender_domain, recipient, recipient_domain, message)
            VALUES (?10, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
            """)
        findSender = try PreparedStatement(db, sql: """
            SELECT u.name, d.name, a.sender FROM mail_arrivals a
            JOIN mail_names u ON u.id = a.user JOIN mail_names d ON d.id = a.domain
            WHERE a.msgid = ? ORDER BY a.id DESC LIMIT 1
            """)
        upsertHour = try PreparedStatement(db, sql: """
            INSERT INTO mail_hourly (user, domain, hour, sent, sent_bytes, delivered, failed, deferred, remote_delivered)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (user, domain, hour) DO UPDATE SET
                sent = sent + excluded.sent, sent_bytes = sent_bytes + excluded.sent_bytes,
                delivered = delivered + excluded.delivered, failed = failed + excluded.failed,
                deferred = deferred + excluded.deferred, remote_delivered = remote_delivered + excluded.remote_delivered
            """)
    }

    /// An arrival (its sender, client host and IP as text; the rest as ids).
    func arrival(_ a: EximArrival, user: Int64, domain: Int64, names: MailNames) throws {
        let s = insertArrival
        s.bind(1, a.messageID)
        s.bind(2, user)
        s.bind(3, domain)
        s.bind(4, a.sender)
        s.bind(5, a.size)
        s.bind(6, a.recipientCount)
        s.bind(7, a.host)
        s.bind(8, a.ip)
        s.bind(9, try names.id(a.proto))
        s.bind(10, try names.id(a.auth))
        try runKeyed(s, parameter: 11, time: a.time)
    }

    /// A delivery, failure or deferral; the error text only for the last two. `sender`: the
    /// message's envelope sender as its arrival logged it, and the id of its domain.
    func delivery(_ d: EximDelivery, kind: DeliveryKind, user: Int64, domain: Int64, sender: ByteLine?, senderDomain: Int64?, names: MailNames) throws {
        let s = insertDelivery
        let recipientDomain = try names.domain(ofAddress: d.recipient)
        s.bind(1, d.messageID)
        s.bind(2, kind.rawValue)
        s.bind(3, user)
        s.bind(4, domain)
        s.bind(5, sender)
        s.bind(6, senderDomain)
        s.bind(7, d.recipient)
        s.bind(8, recipientDomain)
        s.bind(9, try names.id(d.router, sameAs: &recent[0]))
        s.bind(10, try names.id(d.transport, sameAs: &recent[1]))
        s.bind(11, try names.id(d.host, sameAs: &recent[2]))
        s.bind(12, try names.id(d.ip, sameAs: &recent[3]))
        s.bind(13, kind.isDelivered ? nil : d.error)
        let id = try runKeyed(s, parameter: 14, time: d.time)
        try blocks.add(.deliveries, rowID: id, .init(
            sender: sender, senderDomain: senderDomain, recipient: d.recipient, recipientDomain: recipientDomain,
            user: user, message: MessageKey(d.messageID)))
    }

    func reject(_ r: EximRejection, names: MailNames) throws {
        let s = insertReject
        let senderDomain = try names.domain(ofAddress: r.sender), recipientDomain = try names.domain(ofAddress: r.recipient)
        s.bind(1, r.messageID)
        s.bind(2, r.temporary ? 1 : 0)
        s.bind(3, r.host)
        s.bind(4, r.ip)
        s.bind(5, r.sender)
        s.bind(6, senderDomain)
        s.bind(7, r.recipient)
        s.bind(8, recipientDomain)
        s.bind(9, r.reason)
        let id = try runKeyed(s, parameter: 10, time: r.time)
        try blocks.add(.rejects, rowID: id, .init(
            sender: r.sender, senderDomain: senderDomain, recipient: r.recipient, recipientDomain: recipientDomain,
            user: nil, message: r.messageID.map(MessageKey.init)))
    }

    /// See `SearchBlocks.fileRowsWithoutBlocks`.
    func fileRowsWithoutBlocks(_ db: Database) throws -> Int { try blocks.fileRowsWithoutBlocks(db) }

    /// Writes the search blocks being filled (at every commit).
    func flush() throws { try blocks.flush() }

    /// After a failed commit (with `MailNames.rollback`): ids of names that batch inserted are gone.
    func rollback() {
        blocks.rollback()
        recent = [MailNames.Recent](repeating: .init(), count: 4)
    }

    /// Binds the next time-keyed id and runs the insert, taking the next number on a collision.
    @discardableResult @inline(__always) private func runKeyed(_ s: PreparedStatement, parameter: Int32, time: Int64) throws -> Int64 {
        for _ in 0..<TimeKeyedIDs.sequenceMask {
            let id = ids.next(for: time)
            s.bind(parameter, id)
            do {
                try s.run()
                return id
            } catch StoreError.sqlite(let code, _, _) where code == PreparedStatement.primaryKeyConflict {
                continue
            }
        }
        throw StoreError.sqlite(code: PreparedStatement.primaryKeyConflict, message: "no free row id in second \(time)", sql: "INSERT")
    }

    /// The account, domain and sender address (its exact bytes) recorded for a message's arrival, if it is stored.
    func sender(of messageID: ByteLine) throws -> (user: String, domain: String, address: [UInt8])? {
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

/// What became of one attempt to deliver a message to one address, as stored in
/// `mail_deliveries.kind`.
enum DeliveryKind: Int64 {
    case delivered = 1           // =>
    case additionalAddress = 2   // -> (another address of the same delivery)
    case cutthrough = 3          // >>
    case failed = 4              // **
    case deferred = 5            // ==

    var isDelivered: Bool { rawValue <= 3 }
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
}

struct HourKey: Hashable {
    var user: Int32
    var domain: Int32
    var hour: Int64
}
