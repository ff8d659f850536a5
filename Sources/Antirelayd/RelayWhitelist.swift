import Foundation
import GRDB
import TailWatchEngine

/// The relay whitelist at one moment: every host with a successful POP3/IMAP login within the
/// window (minus loopback and the server's own addresses), plus the always-relay list, in cPanel's
/// two file formats.
///
/// Why one type for the daemon and the cron job: both must write byte-identical files from the same
/// rows, or the "unchanged file is not rewritten" promise breaks whenever both run.
public struct RelayWhitelist: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var host: IPNetwork
        /// Most recent login first; always-relay users after them.
        public var users: [String]
        /// Latest successful login (nil for an always-relay entry without logins).
        public var lastLogin: Int64?

        public init(host: IPNetwork, users: [String], lastLogin: Int64?) {
            self.host = host
            self.users = users
            self.lastLogin = lastLogin
        }
    }

    /// Sorted by host (IPv4 first, numerically).
    public private(set) var entries: [Entry]
    /// When the oldest login in the list leaves the window (the list changes then).
    public private(set) var earliestExpiry: Int64?

    public init(entries: [Entry], earliestExpiry: Int64? = nil) {
        self.entries = entries.sorted { $0.host < $1.host }
        self.earliestExpiry = earliestExpiry
    }

    /// Logins with `last_login` in (now − window, now], grouped by IP.
    public static func load(_ db: Database, now: Int64, windowSeconds: Int64, local: LocalAddresses) throws -> RelayWhitelist {
        try perServer(SQLiteReportRows(db), host: nil, now: now, windowSeconds: windowSeconds, local: local).first?.whitelist
            ?? RelayWhitelist(entries: [])
    }

    /// The same from either store: in the fleet's, one whitelist per server that has logins in the
    /// window (`host`: only that one), in host order; from a server's own file, one (host nil).
    public static func perServer(
        _ source: some ReportRows, host: String?, now: Int64, windowSeconds: Int64, local: LocalAddresses
    ) throws -> [(host: String?, whitelist: RelayWhitelist)] {
        let fleet = source.isFleet
        var arguments: [ReportValue] = [.integer(now - windowSeconds)]
        if let host, fleet { arguments.append(.text(host)) }
        let rows = try source.fetch("""
            SELECT \(fleet ? "host" : "NULL"), ip, "user", MAX(last_login) AS last FROM relay_auth
            WHERE last_login > ?\(host != nil && fleet ? " AND host = ?" : "")
            GROUP BY \(fleet ? "host, " : "")ip, "user" ORDER BY \(fleet ? "host, " : "")ip, last DESC, lower("user")
            """, arguments)
        var servers: [(host: String?, whitelist: RelayWhitelist)] = []
        var start = 0
        while start < rows.count {
            var end = start
            while end < rows.count && rows[end][0] == rows[start][0] { end += 1 }
            var entries: [Entry] = []
            var earliest: Int64? = nil
            for row in rows[start..<end] {
                let user = row[2].string
                let last = row[3].int64
                // Only the driver writes the table, always in canonical form; a row that does not
                // read as an address, or is local now, never goes out.
                guard let ip = IPAddress(row[1].string), !local.excludes(ip) else { continue }
                earliest = min(earliest ?? last, last)
                if let tail = entries.last, tail.host.address == ip {
                    entries[entries.count - 1].users.append(user)
                    entries[entries.count - 1].lastLogin = max(tail.lastLogin ?? last, last)
                } else {
                    entries.append(Entry(host: IPNetwork(address: ip), users: [user], lastLogin: last))
                }
            }
            if !entries.isEmpty {
                servers.append((fleet ? rows[start][0].string : nil, RelayWhitelist(entries: entries, earliestExpiry: earliest.map { $0 + windowSeconds })))
            }
            start = end
        }
        return servers
    }

    /// Adds the always-relay hosts (and their users, after the logins' users).
    public mutating func merge(_ always: AlwaysRelay) {
        var index: [IPNetwork: Int] = [:]
        for (i, e) in entries.enumerated() { index[e.host] = i }
        for item in always.entries {
            if let i = index[item.host] {
                if let user = item.user, !entries[i].users.contains(where: { $0.caseInsensitiveCompare(user) == .orderedSame }) {
                    entries[i].users.append(user)
                }
            } else {
                index[item.host] = entries.count
                entries.append(Entry(host: item.host, users: item.user.map { [$0] } ?? [], lastLogin: nil))
            }
        }
        entries.sort { $0.host < $1.host }
    }

    /// `/etc/recent_authed_mail_ips`: one host per line.
    public var hostsText: String {
        var out = ""
        out.reserveCapacity(entries.count * 16)
        for e in entries {
            out += Self.key(e.host)
            out += "\n"
        }
        return out
    }

    /// The host as an exim lookup key: IPv6 in double quotes, because exim's `iplsearch`/`lsearch`
    /// files end an unquoted key at its first colon (IPv4 stays bare, as cPanel writes it).
    static func key(_ host: IPNetwork) -> String {
        host.address.family == .v6 ? "\"\(host.description)\"" : host.description
    }

    /// `/etc/recent_authed_mail_ips_users`: `IP: user1, user2` per host that has users (an
    /// `lsearch` file: the IP is the key, the users its value).
    public var usersText: String {
        var out = ""
        out.reserveCapacity(entries.count * 40)
        for e in entries where !e.users.isEmpty {
            out += Self.key(e.host)
            out += ": "
            out += e.users.joined(separator: ", ")
            out += "\n"
        }
        return out
    }

    /// Writes the files that are named (atomically; an unchanged file is not touched).
    /// Returns the paths actually rewritten.
    public func export(hosts: String?, users: String?, mode: UInt16) throws(AtomicFile.Failure) -> [String] {
        var written: [String] = []
        if let hosts, try AtomicFile.write(hostsText, to: hosts, mode: mode_t(mode)) == .written { written.append(hosts) }
        if let users, try AtomicFile.write(usersText, to: users, mode: mode_t(mode)) == .written { written.append(users) }
        return written
    }
}
