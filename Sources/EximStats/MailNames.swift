import GRDB
import Glibc
import TailWatchEngine

/// The names mail rows refer to by id (accounts, domains, routers, transports, the hosts and IPs
/// deliveries go to, protocols, authenticators), each stored once in `mail_names`.
///
/// Why: a million mainlog lines repeat the same few thousand of these; storing them as text in
/// every row made rows several times wider than their numbers. A name costs a hash lookup in
/// memory; only a name not seen lately costs a statement (an `INSERT OR IGNORE`, then a `SELECT`
/// when the name was already stored). Addresses are not names here: most are new, and a
/// dictionary entry for a name seen once costs more than the name in the row (docs/BENCHMARKS.md);
/// their domains are (`domain(ofAddress:)`).
///
/// Names compare without regard to ASCII case, in memory and in SQLite (`COLLATE NOCASE`); the
/// first spelling seen is the one stored.
///
/// Row ids are valid for the transaction that looked them up and, once it commits, for good:
/// `rollback()` forgets them all (a name inserted in the failed batch is gone). The cache is
/// bounded (`RowIDCache`); a name it no longer holds is looked up again.
final class MailNames {
    private let cache: RowIDCache
    private let insert: PreparedStatement
    private let find: PreparedStatement

    init(_ db: Database, capacity: Int = 60_000) throws {
        cache = RowIDCache(capacity: capacity)
        insert = try PreparedStatement(db, sql: "INSERT OR IGNORE INTO mail_names (name) VALUES (?)")
        find = try PreparedStatement(db, sql: "SELECT id FROM mail_names WHERE name = ?")
    }

    /// The row id of a name.
    @inline(__always) func id(_ name: ByteLine) throws -> Int64 {
        if let known = cache.value(for: name) { return known }
        return try store(name)
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

    /// The last name seen at one place in a line and its id (see `id(_:sameAs:)`); forgotten with
    /// the cache after a failed commit.
    struct Recent {
        var bytes: [UInt8] = []
        var id: Int64 = 0
    }

    /// The row id of an address's domain (the text after its last `@`); nil without one.
    @inline(__always) func domain(ofAddress address: ByteLine?) throws -> Int64? {
        guard let address, let start = Self.domainStart(address) else { return nil }
        return try id(address.slice(start..<address.count))
    }

    /// Where the domain starts: after the last `@`, when something follows it.
    @inline(__always) static func domainStart(_ address: ByteLine) -> Int? {
        guard let at = address.lastIndex(of: 0x40), at + 1 < address.count else { return nil }
        return at + 1
    }

    private func store(_ name: ByteLine) throws -> Int64 {
        insert.bind(1, name)
        try insert.run()
        let id: Int64
        if insert.changes > 0 {
            id = insert.lastInsertedRowID
        } else {
            find.bind(1, name)
            guard let found = try find.queryRow({ $0.int64(0) }) else {
                throw StoreError.sqlite(code: 0, message: "mail_names refused a name and does not hold it", sql: "INSERT OR IGNORE INTO mail_names")
            }
            id = found
        }
        cache.set(id, for: name)
        return id
    }

    /// After a failed commit: names inserted in it are gone, so every one is looked up again.
    func rollback() {
        cache.removeAll()
    }
}
