import Foundation
import GRDB
import TailWatchEngine

/// `tailwatch-report mail trace`: cPanel's "Track Delivery" from the stored rows — one row per
/// delivery attempt or rejection, newest first, filtered by sender, recipient (an address or
/// `@domain`), account, message id, result and time.
///
/// How it stays fast without an index per field: with a sender, recipient, account or message id
/// to look for, it reads the Bloom filters of `mail_search_blocks` newest first and scans only the
/// blocks whose filters may hold every one of them, stopping once the newest `limit` matches are
/// certain. Without one, it reads the rows newest first by their time-keyed ids.
public enum MailTrace {
    public enum Result: String, CaseIterable, Sendable {
        case delivered, deferred, failed, rejected, all
    }

    /// What to look for; nil filters match everything. Addresses and names match without regard
    /// to ASCII case.
    public struct Query: Sendable {
        public var sender: String?
        public var recipient: String?
        public var user: String?
        public var messageID: String?
        public var result: Result = .all
        public var since: Int64?
        public var until: Int64?
        public var limit = 250

        public init(sender: String? = nil, recipient: String? = nil, user: String? = nil, messageID: String? = nil,
                    result: Result = .all, since: Int64? = nil, until: Int64? = nil, limit: Int = 250) {
            self.sender = sender
            self.recipient = recipient
            self.user = user
            self.messageID = messageID
            self.result = result
            self.since = since
            self.until = until
            self.limit = limit
        }
    }

    public struct Row: Sendable, Equatable {
        public var time: Int64
        public var messageID: String?
        public var sender: String?
        public var user: String?
        public var recipient: String?
        /// delivered, deferred, failed or rejected.
        public var result: String
        public var transport: String?
        public var host: String?
        public var ip: String?
        /// The remote answer or error text (failures, deferrals, rejections).
        public var message: String?
        /// Rejections only: a 4xx ("temporarily rejected").
        public var temporary: Bool?
        /// The row's id (time-keyed): the order of rows within a second.
        public var id: Int64
    }

    public static func rows(_ db: Database, _ query: Query) throws -> [Row] {
        guard query.limit > 0, let filters = try Filters(db, query) else { return [] }
        let range = TimeKeyedIDs.range(from: query.since ?? -(1 << 42), to: query.until ?? (1 << 42))
        guard range.lower < range.upper else { return [] }
        var found: [Row] = []
        if query.result != .rejected {
            found += try search(db, .deliveries, filters, range: range, limit: query.limit)
        }
        if query.result == .rejected || query.result == .all, filters.user == nil {
            found += try search(db, .rejects, filters, range: range, limit: query.limit)
        }
        return Array(found.sorted { $0.id > $1.id }.prefix(query.limit))
    }

    /// The query's addresses as text and its other names as `mail_names` ids; nil when one of
    /// those names was never stored (nothing matches).
    struct Filters {
        var sender: String?, recipient: String?
        var senderDomain: Int64?, recipientDomain: Int64?, user: Int64?
        var messageID: String?
        var kinds: ClosedRange<Int64>?

        init?(_ db: Database, _ query: Query) throws {
            func id(_ name: String) throws -> Int64? {
                try Int64.fetchOne(db, sql: "SELECT id FROM mail_names WHERE name = ?", arguments: [name])
            }
            /// An address (as text), or a domain (its id) when it starts with '@'.
            func address(_ text: String?) throws -> (address: String?, domain: Int64?)? {
                guard let text else { return (nil, nil) }
                if text.hasPrefix("@") { return try id(String(text.dropFirst())).map { (nil, $0) } }
                return (text, nil)
            }
            guard let s = try address(query.sender), let r = try address(query.recipient) else { return nil }
            (sender, senderDomain, recipient, recipientDomain) = (s.address, s.domain, r.address, r.domain)
            if let u = query.user {
                guard let i = try id(u) else { return nil }
                user = i
            }
            if let m = query.messageID {
                guard m.utf8.count == 16 || m.utf8.count == 23 else { return nil }
                messageID = m
            }
            switch query.result {
            case .delivered: kinds = 1...3
            case .failed: kinds = 4...4
            case .deferred: kinds = 5...5
            case .rejected, .all: kinds = nil
            }
        }

        /// The filter columns a search reads and, per column, the keys each block must may-hold.
        var keys: [(column: String, keys: [UInt64])] {
            var out: [(String, [UInt64])] = []
            let senders = [sender.map { withByteLine($0, SearchKey.address) }, senderDomain.map { SearchKey.name($0, SearchKey.senderDomain) }].compactMap { $0 }
            let recipients = [recipient.map { withByteLine($0, SearchKey.address) }, recipientDomain.map { SearchKey.name($0, SearchKey.recipientDomain) }].compactMap { $0 }
            if !senders.isEmpty { out.append(("senders", senders)) }
            if !recipients.isEmpty { out.append(("recipients", recipients)) }
            if let user { out.append(("users", [SearchKey.name(user, SearchKey.user)])) }
            if let messageID { out.append(("msgids", [withByteLine(messageID) { SearchKey.message(MessageKey($0)) }])) }
            return out
        }

        /// The lowest row id a match can have in `lower`: a message's deliveries come after its
        /// arrival, whose time starts its id (base 62), less a day for a log written in a zone the
        /// config does not name.
        func earliest(_ lower: Int64) -> Int64 {
            guard let messageID, let arrival = Self.arrivalTime(messageID) else { return lower }
            return max(lower, TimeKeyedIDs.range(from: arrival - 86400, to: arrival).lower)
        }

        /// The time in an exim message id: its first six characters, in base 62.
        static func arrivalTime(_ id: String) -> Int64? {
            var t: Int64 = 0
            for c in id.utf8.prefix(6) {
                let digit: UInt8
                switch c {
                case 0x30...0x39: digit = c - 0x30
                case 0x41...0x5A: digit = c - 0x41 + 10
                case 0x61...0x7A: digit = c - 0x61 + 36
                default: return nil
                }
                t = t * 62 + Int64(digit)
            }
            return t
        }

        /// The SQL conditions and their arguments, besides the id range.
        func conditions(for table: SearchBlocks.Table) -> (sql: String, arguments: StatementArguments) {
            var sql: [String] = []
            var arguments: StatementArguments = []
            // The result first: the cheapest test, and it rules most rows out.
            if table == .deliveries, let kinds {
                sql.append("kind BETWEEN ? AND ?")
                arguments += [kinds.lowerBound, kinds.upperBound]
            }
            for (column, value) in [("sender", sender), ("recipient", recipient)] {
                if let value {
                    sql.append("\(column) = ? COLLATE NOCASE")
                    arguments += [value]
                }
            }
            for (column, value) in [("sender_domain", senderDomain), ("recipient_domain", recipientDomain), ("user", user)] {
                if let value {
                    sql.append("\(column) = ?")
                    arguments += [value]
                }
            }
            if let messageID {
                sql.append("msgid = ?")
                arguments += [messageID]
            }
            return (sql.map { " AND \($0)" }.joined(), arguments)
        }
    }

    private static func select(_ table: SearchBlocks.Table) -> String {
        func name(_ column: String) -> String { "(SELECT name FROM mail_names WHERE id = t.\(column))" }
        switch table {
        case .deliveries:
            return """
                SELECT t.id, t.msgid, t.sender, \(name("user")), t.recipient,
                       CASE WHEN t.kind <= 3 THEN 'delivered' WHEN t.kind = 4 THEN 'failed' ELSE 'deferred' END,
                       \(name("transport")), \(name("host")), \(name("ip")), t.message, NULL
                FROM mail_deliveries t
                """
        case .rejects:
            return """
                SELECT t.id, t.msgid, t.sender, NULL, t.recipient, 'rejected',
                       NULL, t.host, t.ip, t.message, t.temporary
                FROM mail_rejects t
                """
        }
    }

    private static func row(_ r: GRDB.Row) -> Row {
        let id: Int64 = r[0]
        let temporary: Int64? = r[10]
        return Row(time: id >> TimeKeyedIDs.sequenceBits, messageID: r[1], sender: r[2], user: r[3], recipient: r[4], result: r[5],
                   transport: r[6], host: r[7], ip: r[8], message: r[9], temporary: temporary.map { $0 != 0 }, id: id)
    }

    private static func table(_ t: SearchBlocks.Table) -> String { t == .deliveries ? "mail_deliveries" : "mail_rejects" }

    /// The newest `limit` rows of one table matching `filters` within `range`.
    private static func search(_ db: Database, _ t: SearchBlocks.Table, _ filters: Filters, range: (lower: Int64, upper: Int64), limit: Int) throws -> [Row] {
        let (conditions, arguments) = filters.conditions(for: t)
        let hasBlocks = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM mail_search_blocks WHERE tbl = ?)", arguments: [t.rawValue]) ?? false
        let hasRows = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(table(t)))") ?? false
        if filters.keys.isEmpty || (!hasBlocks && hasRows) {
            // Newest first along the primary key. (Rows converted from an older schema before the
            // daemon built their blocks are also searched this way, slowly but completely.)
            return try GRDB.Row.fetchAll(db, sql: "\(select(t)) WHERE t.id >= ? AND t.id < ?\(conditions) ORDER BY t.id DESC LIMIT ?",
                                         arguments: [range.lower, range.upper] + arguments + [limit]).map(row)
        }
        var found: [Int64: Row] = [:]
        var newest: [Int64] = []  // the newest `limit` ids found so far, newest first
        let keys = filters.keys
        let scan = try db.cachedStatement(sql: "\(select(t)) WHERE t.id >= ? AND t.id <= ?\(conditions) ORDER BY t.id DESC LIMIT ?")
        /// Scans a run of consecutive blocks that may match, newest row first.
        func scanRun(_ run: (lower: Int64, upper: Int64)) throws {
            let lower = max(run.lower, range.lower), upper = min(run.upper, range.upper - 1)
            guard lower <= upper else { return }
            for r in try GRDB.Row.fetchAll(scan, arguments: [lower, upper] + arguments + [limit]).map(row) where found[r.id] == nil {
                found[r.id] = r
                newest.append(r.id)
            }
            newest.sort(by: >)
            if newest.count > limit { newest.removeLast(newest.count - limit) }
        }
        let cursor = try GRDB.Row.fetchCursor(db, sql: """
            SELECT min_id, max_id, \(keys.map(\.column).joined(separator: ", ")) FROM mail_search_blocks
            WHERE tbl = ? AND max_id >= ? AND min_id < ? ORDER BY max_id DESC
            """, arguments: [t.rawValue, filters.earliest(range.lower), range.upper])
        // Consecutive blocks that may match are scanned as one range (up to 64 blocks at a time).
        var run: (lower: Int64, upper: Int64)? = nil
        var blocksInRun = 0
        while let block = try cursor.next() {
            let minID: Int64 = block[0], maxID: Int64 = block[1]
            // Blocks come by their newest row: once `limit` rows newer than this block's newest are
            // in hand, no later block can change the answer.
            if let current = run, blocksInRun >= 64 || (newest.count >= limit && maxID < newest[limit - 1]) {
                try scanRun(current)
                run = nil
                blocksInRun = 0
            }
            if newest.count >= limit, maxID < newest[limit - 1] { break }
            var mayMatch = true
            for (index, field) in keys.enumerated() where mayMatch {
                guard let bits = block.dataNoCopy(atIndex: 2 + index) else { mayMatch = false; break }
                mayMatch = bits.withUnsafeBytes { raw in field.keys.allSatisfy { BloomFilter.mayContain($0, stored: raw) } }
            }
            if mayMatch {
                run = run.map { (min($0.lower, minID), max($0.upper, maxID)) } ?? (minID, maxID)
                blocksInRun += 1
            } else if let current = run {
                try scanRun(current)
                run = nil
                blocksInRun = 0
            }
        }
        if let current = run { try scanRun(current) }
        return newest.compactMap { found[$0] }
    }
}
