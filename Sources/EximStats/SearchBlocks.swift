import Foundation
import GRDB
import Logging
import TailWatchEngine

/// The search filters of mail rows: per block of about a thousand consecutive rows of one table,
/// the range of their ids and a Bloom filter per searchable field, in `mail_search_blocks`.
///
/// Why not an index per field: an index entry costs about as much to insert as the narrow row it
/// points to, and four of them would halve the ingest rate. A block's filters cost a few hashes
/// per row in memory and one row write per thousand; a search (`MailTrace`) reads the filters,
/// newest first, and scans only the blocks that may hold a match.
///
/// The block being filled is written at every commit (the same transaction as its rows) and stays
/// open for the next batch, so a live log's trickle of rows still makes full blocks. After a
/// failed commit, or a restart, the next row starts a new block: the rows already committed are in
/// the filters committed with them.
final class SearchBlocks {
    enum Table: Int64 { case deliveries = 0, rejects = 1 }

    static let rowsPerBlock = 1024
    /// Filter sizes in bits: recipients and message ids are mostly distinct per row, senders repeat
    /// more, a block holds few accounts.
    static let senderBits = 8192, recipientBits = 16384, userBits = 2048, messageBits = 16384

    /// The keys of one row (see `SearchKey`): addresses by their text (`SearchKey.address`, hashed
    /// by the caller: a message's sender is hashed once for all its rows), the rest by id.
    struct RowKeys {
        var sender: UInt64?
        var senderDomain: Int64?
        var recipient: UInt64?
        var recipientDomain: Int64?
        var user: Int64?
        var message: MessageKey?
    }

    private struct OpenBlock {
        let id: Int64
        var minID = Int64.max
        var maxID = Int64.min
        var rows = 0
        var senders = BloomFilter(bits: SearchBlocks.senderBits)
        var recipients = BloomFilter(bits: SearchBlocks.recipientBits)
        var users = BloomFilter(bits: SearchBlocks.userBits)
        var messages = BloomFilter(bits: SearchBlocks.messageBits)
        var unwritten = false
        /// Whether the block's row was written (at an earlier commit, while the block stayed
        /// open): it is then updated in place.
        var stored = false

        init(id: Int64) { self.id = id }
    }

    // Touched for every row: no dynamic exclusivity checks.
    @exclusivity(unchecked) private var open: [OpenBlock?] = [nil, nil]
    private var nextID: Int64
    // A new block's row is inserted, then updated while it stays open: not INSERT OR REPLACE,
    // whose possible delete makes SQLite copy every page it touches to a statement journal first
    // (measured: 12 MB of temporary file writes per million mainlog lines).
    private let insert: PreparedStatement
    private let update: PreparedStatement

    init(_ db: Database) throws {
        nextID = (try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM mail_search_blocks") ?? 0) + 1
        insert = try PreparedStatement(db, sql: """
            INSERT INTO mail_search_blocks (min_id, max_id, rows, senders, recipients, users, msgids, id, tbl)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        update = try PreparedStatement(db, sql: """
            UPDATE mail_search_blocks SET min_id = ?, max_id = ?, rows = ?, senders = ?, recipients = ?, users = ?, msgids = ?
            WHERE id = ?
            """)
    }

    /// Files the row `rowID` of `table` under its keys; writes the block when it is full.
    @inline(__always) func add(_ table: Table, rowID: Int64, _ keys: RowKeys) throws {
        let t = Int(table.rawValue)
        if open[t] == nil {
            open[t] = OpenBlock(id: nextID)
            nextID += 1
        }
        open[t]!.minID = min(open[t]!.minID, rowID)
        open[t]!.maxID = max(open[t]!.maxID, rowID)
        open[t]!.rows += 1
        open[t]!.unwritten = true
        if let key = keys.sender { open[t]!.senders.insert(key) }
        if let id = keys.senderDomain { open[t]!.senders.insert(SearchKey.name(id, SearchKey.senderDomain)) }
        if let key = keys.recipient { open[t]!.recipients.insert(key) }
        if let id = keys.recipientDomain { open[t]!.recipients.insert(SearchKey.name(id, SearchKey.recipientDomain)) }
        if let id = keys.user { open[t]!.users.insert(SearchKey.name(id, SearchKey.user)) }
        if let message = keys.message { open[t]!.messages.insert(SearchKey.message(message)) }
        if open[t]!.rows >= Self.rowsPerBlock {
            try write(t)
            open[t] = nil
        }
    }

    /// Files rows that have no blocks: those an upgrade converted from the wide tables of before
    /// (migration 0003). Runs once, in one transaction, when the blocks table is empty and the
    /// row tables are not; returns the number of rows filed.
    func fileRowsWithoutBlocks(_ db: Database) throws -> Int {
        guard try !(Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM mail_search_blocks)") ?? false) else { return 0 }
        var filed = 0
        try db.inTransaction {
            for (table, sql) in [
                (Table.deliveries, "SELECT id, CAST(sender AS BLOB), sender_domain, CAST(recipient AS BLOB), recipient_domain, user, msgid FROM mail_deliveries ORDER BY id"),
                (Table.rejects, "SELECT id, CAST(sender AS BLOB), sender_domain, CAST(recipient AS BLOB), recipient_domain, NULL, msgid FROM mail_rejects ORDER BY id"),
            ] {
                let rows = try Row.fetchCursor(db, sql: sql)
                while let row = try rows.next() {
                    let message: String? = row[6]
                    let sender = row.dataNoCopy(atIndex: 1), recipient = row.dataNoCopy(atIndex: 3)
                    try Self.withBytes(sender) { sender in
                        try Self.withBytes(recipient) { recipient in
                            let keys = RowKeys(sender: sender.map(SearchKey.address), senderDomain: row[2], recipient: recipient.map(SearchKey.address), recipientDomain: row[4], user: row[5],
                                               message: message.map { withByteLine($0) { MessageKey($0) } })
                            try add(table, rowID: row[0], keys)
                        }
                    }
                    filed += 1
                }
                try flush()
                open[Int(table.rawValue)] = nil
            }
            return .commit
        }
        return filed
    }

    private static func withBytes<R>(_ data: Data?, _ body: (ByteLine?) throws -> R) rethrows -> R {
        guard let data, !data.isEmpty else { return try body(nil) }
        return try data.withUnsafeBytes { raw in try body(ByteLine(base: raw.baseAddress!.assumingMemoryBound(to: UInt8.self), count: raw.count)) }
    }

    /// Writes the blocks being filled (in the commit's transaction); they stay open.
    func flush() throws {
        for t in open.indices where open[t]?.unwritten == true { try write(t) }
    }

    /// After a failed commit: the open blocks' rows are gone; the next rows start new blocks.
    func rollback() {
        open = [nil, nil]
    }

    private func write(_ t: Int) throws {
        guard var block = open[t] else { return }
        if block.stored {
            try run(update, block)
            // The retention purge took the row meanwhile (lines older than the retention were
            // read): the block, with the rows that came since, is written again.
            if update.changes == 0 { try run(insert, block, table: t) }
        } else {
            try run(insert, block, table: t)
        }
        block.unwritten = false
        block.stored = true
        open[t] = block
    }

    /// `insert` (with the block's table) or `update`: their parameters are in the same order.
    private func run(_ s: PreparedStatement, _ block: OpenBlock, table t: Int? = nil) throws {
        s.bind(1, block.minID)
        s.bind(2, block.maxID)
        s.bind(3, Int64(block.rows))
        s.bind(4, blob: block.senders.bytes)
        s.bind(5, blob: block.recipients.bytes)
        s.bind(6, blob: block.users.bytes)
        s.bind(7, blob: block.messages.bytes)
        s.bind(8, block.id)
        if let t { s.bind(9, Int64(t)) }
        try s.run()
    }
}
