import GRDB
import Glibc
import TailWatchEngine

/// The names mail rows refer to (addresses, hosts, IPs, routers, transports, protocols,
/// authenticators, accounts and domains), each stored once in `mail_names` and written into rows
/// as its integer id.
///
/// Why: a million mainlog lines repeat the same hosts, transports, accounts and mailboxes over
/// and over; storing them as text in every row made rows several times wider than their numbers.
/// A name costs a hash lookup in memory; only a name not seen lately costs a statement (an
/// `INSERT OR IGNORE`, then a `SELECT` when the name was already stored).
///
/// Names compare without regard to ASCII case, in memory and in SQLite (`COLLATE NOCASE`), so an
/// address is found however it was typed; the first spelling seen is the one stored. An address
/// comes with the id of its domain (the text after its last `@`), which rows keep for `@domain`
/// searches.
///
/// Row ids are valid for the transaction that looked them up and, once it commits, for good:
/// `rollback()` forgets them all (a name inserted in the failed batch is gone). The cache is
/// bounded: past `capacity` names it starts afresh, and names are looked up again.
final class MailNames {
    private let cache: RowIDCache
    private let insert: PreparedStatement
    private let find: PreparedStatement
    private let database: Database

    init(_ db: Database, capacity: Int = 60_000) throws {
        database = db
        cache = RowIDCache(capacity: capacity)
        insert = try PreparedStatement(db, sql: "INSERT OR IGNORE INTO mail_names (name) VALUES (?)")
        find = try PreparedStatement(db, sql: "SELECT id FROM mail_names WHERE name = ?")
    }

    /// An address's id and its domain's (nil when it has no `@domain`).
    struct Address: Equatable {
        var id: Int64
        var domain: Int64?
    }

    @inline(__always) private func cached(_ name: ByteLine) -> Address? {
        cache.value(for: name).map { Address(id: $0.id, domain: $0.second) }
    }

    /// The row id of a name.
    @inline(__always) func id(_ name: ByteLine) throws -> Int64 {
        if let known = cache.value(for: name) { return known.id }
        return try store(name, domain: nil)
    }

    @inline(__always) func id(_ name: ByteLine?) throws -> Int64? {
        guard let name else { return nil }
        return try id(name)
    }

    func id(_ name: String) throws -> Int64 {
        try withByteLine(name) { try id($0) }
    }

    /// The row id of a name that often repeats the one before at the same place in a line (a
    /// router, transport, host or IP): compared with that one first, then looked up.
    @inline(__always) func id(_ name: ByteLine?, sameAs last: inout Recent) throws -> Int64? {
        guard let name else { return nil }
        if name.count > 0, name.count == last.bytes.count, last.id != 0,
           last.bytes.withUnsafeBufferPointer({ memcmp($0.baseAddress!, name.base, name.count) == 0 }) {
            return last.id
        }
        let id = try self.id(name)
        last.bytes.removeAll(keepingCapacity: true)
        last.bytes.append(contentsOf: UnsafeBufferPointer(start: name.base, count: name.count))
        last.id = id
        return id
    }

    /// The last name seen at one place in a line and its id (see `id(_:sameAs:)`); reset with the cache.
    struct Recent {
        var bytes: [UInt8] = []
        var id: Int64 = 0
    }

    /// The row ids of an address and its domain.
    @inline(__always) func address(_ address: ByteLine) throws -> Address {
        if let known = cached(address), known.domain != nil || Self.domainStart(address) == nil { return known }
        let domain = try Self.domainStart(address).map { try id(address.slice($0..<address.count)) }
        return Address(id: try store(address, domain: domain), domain: domain)
    }

    @inline(__always) func address(_ address: ByteLine?) throws -> Address? {
        guard let address else { return nil }
        return try self.address(address)
    }

    /// Where the domain starts: after the last `@`, when something follows it.
    @inline(__always) static func domainStart(_ address: ByteLine) -> Int? {
        guard let at = address.lastIndex(of: 0x40), at + 1 < address.count else { return nil }
        return at + 1
    }

    private func store(_ name: ByteLine, domain: Int64?) throws -> Int64 {
        insert.bind(1, name)
        try insert.run()
        let id: Int64
        if database.changesCount > 0 {
            id = database.lastInsertedRowID
        } else {
            find.bind(1, name)
            guard let found = try find.queryRow({ $0.int64(0) }) else {
                throw StoreError.sqlite(code: 0, message: "mail_names refused a name and does not hold it", sql: "INSERT OR IGNORE INTO mail_names")
            }
            id = found
        }
        cache.set(RowIDCache.IDs(id: id, second: domain), for: name)
        return id
    }

    /// After a failed commit: names inserted in it are gone, so every one is looked up again.
    func rollback() {
        cache.removeAll()
    }
}
