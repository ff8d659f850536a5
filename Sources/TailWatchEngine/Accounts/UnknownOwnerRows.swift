import Foundation
import GRDB

/// Rows a driver wrote under `UNKNOWN` for domains that have an owner now, moved to that owner in
/// the caller's transaction.
///
/// Why: traffic of a domain that was not yet in `/etc/userdomains` (an account created while the
/// daemon ran, or while it was stopped) is committed as `UNKNOWN`; once the domain has an owner,
/// reports should show those rows under it, as if the file had been right all along. The drivers
/// call this whenever they (re)read the file, at start included, so a report never has to guess.
///
/// Summed tables (one row per key: hourly totals) are merged into the owner's rows in one pass
/// over the table, whatever the number of domains moved (event rows, which hold names as ids, are
/// the driver's to move). Only rows whose user is `unknown` move: traffic already attributed to
/// an account stays with it if the domain changes hands later.
public struct UnknownOwnerRows: CustomStringConvertible {
    /// The placeholder user name the driver writes (`UNKNOWN`).
    public let unknown: String
    /// Domain → its owner now, for the domains that had `unknown` rows.
    public let owners: [String: String]

    public init(unknown: String, owners: [String: String]) {
        self.unknown = unknown
        self.owners = owners
    }

    /// The distinct domains of `table`'s `unknown` rows (cheap when `user` leads its key, or a
    /// partial index holds them: the placeholder is written into the SQL as a literal, so that
    /// SQLite can match an index `WHERE user = 'UNKNOWN'`).
    public static func domains(_ db: Database, table: String, unknown: String) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT DISTINCT domain FROM \(table) WHERE user = \(literal(unknown)) AND domain <> ''")
    }

    /// `name` as an SQL string literal.
    private static func literal(_ name: String) -> String {
        "'" + name.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// For the log: "N domains to their owners: a → x, b → y, …".
    public var description: String {
        let shown = owners.sorted { $0.key < $1.key }.prefix(5).map { "\($0.key) → \($0.value)" }
        return "\(owners.count) domains to their owners: \(shown.joined(separator: ", "))\(owners.count > 5 ? ", …" : "")"
    }

    private var ownersJSON: String {
        // Domains and user names are plain host and account names; JSON-escape them anyway.
        let pairs = owners.map { "\(Self.quoted($0.key)):\(Self.quoted($0.value))" }
        return "{" + pairs.joined(separator: ",") + "}"
    }

    private static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Merges `table`'s `unknown` rows of the moved domains into their owners' rows: `keys` are
    /// the key columns besides `user` and `domain`, `sums` the columns added together.
    public func moveSums(_ db: Database, table: String, keys: [String], sums: [String]) throws {
        guard !owners.isEmpty else { return }
        let columns = (["user", "domain"] + keys + sums).joined(separator: ", ")
        let selected = (["r.value", "t.domain"] + (keys + sums).map { "t.\($0)" }).joined(separator: ", ")
        let conflict = (["user", "domain"] + keys).joined(separator: ", ")
        let added = sums.map { "\($0) = \($0) + excluded.\($0)" }.joined(separator: ", ")
        try db.execute(sql: """
            INSERT INTO \(table) (\(columns))
                SELECT \(selected) FROM \(table) t JOIN json_each(?) r ON r.key = t.domain WHERE t.user = \(Self.literal(unknown))
                ON CONFLICT (\(conflict)) DO UPDATE SET \(added)
            """, arguments: [ownersJSON])
        try db.execute(sql: "DELETE FROM \(table) WHERE user = \(Self.literal(unknown)) AND domain IN (SELECT key FROM json_each(?))", arguments: [ownersJSON])
    }
}
