import Foundation
import GRDB
import TailWatchEngine

/// Adds a batch's sums to the four rollup tables, one prepared upsert each.
final class BandwidthWriter {
    private let fiveMinutes: PreparedStatement
    /// The hourly, daily and monthly tables: (statement, start of the period holding a time).
    private let rollups: [(PreparedStatement, (Int64) -> Int64)]
    private let names: NameTable
    /// The name id of each protocol, by `BandwidthProtocol.index`.
    private let protocolNames: [Int32]
    /// Each name's place among all names in byte order (as SQLite compares text: memcmp, then the
    /// shorter first), for the first `rankedCount` names of the table.
    private var rank: [UInt64] = []
    private var rankedCount = 0
    /// Each protocol's place among the four names, by `BandwidthProtocol.index`.
    private let protocolRank: [UInt64]

    static func floor(_ t: Int64, _ step: Int64) -> Int64 { t - ((t % step) + step) % step }

    init(_ db: Database, names: NameTable, protocolNames: [Int32]) throws {
        func upsert(_ table: String) throws -> PreparedStatement {
            try PreparedStatement(db, sql: """
                INSERT INTO \(table) (user, domain, protocol, period, bytes, hits) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (user, domain, protocol, period) DO UPDATE SET bytes = bytes + excluded.bytes, hits = hits + excluded.hits
                """)
        }
        fiveMinutes = try upsert("bandwidth_5min")
        rollups = [
            (try upsert("bandwidth_hourly"), { Self.floor($0, 3600) }),
            (try upsert("bandwidth_daily"), { Self.floor($0, 86400) }),
            (try upsert("bandwidth_monthly"), { CivilTime.monthStart(ofUTC: $0) }),
        ]
        self.names = names
        self.protocolNames = protocolNames
        let byName = protocolNames.indices.sorted { Self.precedes(names[bytes: protocolNames[$0]], names[bytes: protocolNames[$1]]) }
        var protocolRank = [UInt64](repeating: 0, count: protocolNames.count)
        for (place, index) in byName.enumerated() { protocolRank[index] = UInt64(place) }
        self.protocolRank = protocolRank
    }

    /// Adds 5-minute sums to the 5-minute table in the order of its primary key (period first), so
    /// that the upserts walk its B-tree in order.
    func addFiveMinutes(_ sums: BandwidthSums) throws {
        let keys = sums.allKeys
        for index in sortedIndices(keys, periodFirst: true) {
            let key = keys[index]
            try run(fiveMinutes, key, period: key.bucket, bytes: sums.bytes(at: index), hits: sums.hits(at: index))
        }
    }

    /// Adds a batch's sums (per 5 minutes or per hour) to the hourly, daily and monthly tables.
    /// Ordered by account, domain and protocol first (the tables' key), the keys of one hour, day
    /// or month lie next to each other, so each is summed in one pass (a day holding 24 hourly keys
    /// costs one upsert, not 24).
    func addRollups(_ sums: BandwidthSums) throws {
        let keys = sums.allKeys
        let byAccount = sortedIndices(keys, periodFirst: false)
        for (statement, period) in rollups {
            var i = 0
            while i < byAccount.count {
                let first = keys[byAccount[i]]
                let start = period(first.bucket)
                var bytes: Int64 = 0, hits: Int64 = 0
                while i < byAccount.count {
                    let key = keys[byAccount[i]]
                    guard key.user == first.user, key.domain == first.domain, key.protocolIndex == first.protocolIndex,
                          period(key.bucket) == start else { break }
                    bytes &+= sums.bytes(at: byAccount[i])
                    hits &+= sums.hits(at: byAccount[i])
                    i += 1
                }
                try run(statement, first, period: start, bytes: bytes, hits: hits)
            }
        }
    }

    private func run(_ statement: PreparedStatement, _ key: BandwidthKey, period: Int64, bytes: Int64, hits: Int64) throws {
        statement.bind(1, names[bytes: key.user])
        statement.bind(2, names[bytes: key.domain])
        statement.bind(3, names[bytes: protocolNames[Int(key.protocolIndex)]])
        statement.bind(4, period)
        statement.bind(5, bytes)
        statement.bind(6, hits)
        try statement.run()
    }

    /// The keys' indices by (account, domain, protocol, bucket), or with the bucket first, as the
    /// tables order them. Each key is packed into two words (account and domain places below 2^30,
    /// which any name table is), so the sort compares integers.
    private func sortedIndices(_ keys: [BandwidthKey], periodFirst: Bool) -> [Int] {
        if rankedCount < names.count { rankNames() }
        var entries: [(major: UInt64, minor: UInt64, index: Int)] = []
        entries.reserveCapacity(keys.count)
        for (index, key) in keys.enumerated() {
            let name = rank[Int(key.user)] << 34 | rank[Int(key.domain)] << 4 | protocolRank[Int(key.protocolIndex)]
            let bucket = UInt64(bitPattern: key.bucket) ^ (1 << 63)  // signed order as unsigned
            entries.append(periodFirst ? (bucket, name, index) : (name, bucket, index))
        }
        entries.sort { $0.major != $1.major ? $0.major < $1.major : $0.minor < $1.minor }
        return entries.map(\.index)
    }

    /// Ranks every name of the table; again only when names were added since (new accounts).
    private func rankNames() {
        let count = names.count
        let order = (0..<Int32(count)).sorted { Self.precedes(names[bytes: $0], names[bytes: $1]) }
        rank = Array(repeating: 0, count: count)
        for (place, id) in order.enumerated() { rank[Int(id)] = UInt64(place) }
        rankedCount = count
    }

    private static func precedes(_ a: ByteLine, _ b: ByteLine) -> Bool {
        let c = memcmp(a.base, b.base, min(a.count, b.count))
        return c != 0 ? c < 0 : a.count < b.count
    }
}
