import GRDB
import TailWatchEngine

/// The eximstats driver's prepared statements: one per row shape, bound from the line's bytes.
final class EximStatsWriter {
    private let insertSend: PreparedStatement
    private let insertDelivery: PreparedStatement
    private let insertFailure: PreparedStatement
    private let insertDefer: PreparedStatement
    private let insertReject: PreparedStatement
    private let findSender: PreparedStatement
    private let upsertHour: PreparedStatement
    private var ids: TimeKeyedIDs

    static let keyedTables = ["sends", "smtp", "failures", "defers", "rejects"]

    init(_ db: Database) throws {
        let highest = try Self.keyedTables.compactMap { try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM \($0)") }.max()
        ids = TimeKeyedIDs(highestInUse: highest)
        insertSend = try PreparedStatement(db, sql: """
            INSERT INTO sends (id, time, msgid, user, domain, sender, size, host, ip, protocol, auth, local_user, subject, recipients)
            VALUES (?14, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
            """)
        insertDelivery = try PreparedStatement(db, sql: """
            INSERT INTO smtp (id, time, msgid, user, domain, kind, recipient, router, transport, host, ip)
            VALUES (?11, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
            """)
        insertFailure = try PreparedStatement(db, sql: """
            INSERT INTO failures (id, time, msgid, user, domain, recipient, router, transport, host, ip, error)
            VALUES (?11, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
            """)
        insertDefer = try PreparedStatement(db, sql: """
            INSERT INTO defers (id, time, msgid, user, domain, recipient, router, transport, host, ip, error)
            VALUES (?11, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
            """)
        insertReject = try PreparedStatement(db, sql: """
            INSERT INTO rejects (id, time, host, ip, sender, recipient, reason) VALUES (?7, ?1, ?2, ?3, ?4, ?5, ?6)
            """)
        findSender = try PreparedStatement(db, sql: "SELECT user, domain FROM sends WHERE msgid = ? ORDER BY id DESC LIMIT 1")
        upsertHour = try PreparedStatement(db, sql: """
            INSERT INTO mail_hourly (user, domain, hour, sent, sent_bytes, delivered, failed, deferred, remote_delivered)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (user, domain, hour) DO UPDATE SET
                sent = sent + excluded.sent, sent_bytes = sent_bytes + excluded.sent_bytes,
                delivered = delivered + excluded.delivered, failed = failed + excluded.failed,
                deferred = deferred + excluded.deferred, remote_delivered = remote_delivered + excluded.remote_delivered
            """)
    }

    func send(_ a: EximArrival, user: ByteLine, domain: ByteLine) throws {
        let s = insertSend
        s.bind(1, a.time)
        s.bind(2, a.messageID)
        s.bind(3, user)
        s.bind(4, domain)
        s.bind(5, a.sender)
        s.bind(6, a.size)
        s.bind(7, a.host)
        s.bind(8, a.ip)
        s.bind(9, a.proto)
        s.bind(10, a.auth)
        s.bind(11, a.localUser)
        s.bind(12, a.subject)
        s.bind(13, a.recipients)
        try runKeyed(s, parameter: 14, time: a.time)
    }

    func delivery(_ d: EximDelivery, kind: StaticString, user: ByteLine, domain: ByteLine) throws {
        let s = insertDelivery
        s.bind(1, d.time)
        s.bind(2, d.messageID)
        s.bind(3, user)
        s.bind(4, domain)
        s.bind(5, ByteLine(base: kind.utf8Start, count: kind.utf8CodeUnitCount))
        s.bind(6, d.recipient)
        s.bind(7, d.router)
        s.bind(8, d.transport)
        s.bind(9, d.host)
        s.bind(10, d.ip)
        try runKeyed(s, parameter: 11, time: d.time)
    }

    /// A failure (`**`) or a deferral (`==`).
    func problem(_ d: EximDelivery, deferred: Bool, user: ByteLine, domain: ByteLine) throws {
        let s = deferred ? insertDefer : insertFailure
        s.bind(1, d.time)
        s.bind(2, d.messageID)
        s.bind(3, user)
        s.bind(4, domain)
        s.bind(5, d.recipient)
        s.bind(6, d.router)
        s.bind(7, d.transport)
        s.bind(8, d.host)
        s.bind(9, d.ip)
        s.bind(10, d.error)
        try runKeyed(s, parameter: 11, time: d.time)
    }

    func reject(_ r: EximRejection) throws {
        let s = insertReject
        s.bind(1, r.time)
        s.bind(2, r.host)
        s.bind(3, r.ip)
        s.bind(4, r.sender)
        s.bind(5, r.recipient)
        s.bind(6, r.reason)
        try runKeyed(s, parameter: 7, time: r.time)
    }

    /// Binds the next time-keyed id and runs the insert, taking the next number on a collision.
    @inline(__always) private func runKeyed(_ s: PreparedStatement, parameter: Int32, time: Int64) throws {
        for _ in 0..<TimeKeyedIDs.sequenceMask {
            s.bind(parameter, ids.next(for: time))
            do {
                try s.run()
                return
            } catch StoreError.sqlite(let code, _, _) where code == PreparedStatement.primaryKeyConflict {
                continue
            }
        }
        throw StoreError.sqlite(code: PreparedStatement.primaryKeyConflict, message: "no free row id in second \(time)", sql: "INSERT")
    }

    /// The account and domain recorded for a message's arrival, if it is in the table.
    func sender(of messageID: ByteLine) throws -> (user: String, domain: String)? {
        findSender.bind(1, messageID)
        return try findSender.queryRow { row in (row.text(0) ?? "UNKNOWN", row.text(1) ?? "") }
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
