import Foundation
import GRDB
import TailWatchEngine

/// Adds a batch's sums to the four rollup tables, one prepared upsert each.
final class BandwidthWriter {
    private let fiveMinutes: PreparedStatement
    /// The hourly, daily and monthly tables: (statement, start of the period holding a time).
    private let rollups: [(PreparedStatement, (Int64) -> Int64)]

    static func floor(_ t: Int64, _ step: Int64) -> Int64 { t - ((t % step) + step) % step }

    init(_ db: Database) throws {
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
    }

    /// Adds 5-minute sums to the 5-minute table, in the order of its primary key (period first), so
    /// that the upserts walk its B-tree in order (names compare by their bytes, as SQLite's do).
    func addFiveMinutes(_ sums: BandwidthSums, name: (Int32) -> ByteLine, protocolName: (UInt8) -> ByteLine) throws {
        let keys = sums.allKeys
        let order = SortOrder(keys, name: name, protocolName: protocolName)
        for index in order.indices(keys, periodFirst: true) {
            let key = keys[index]
            try run(fiveMinutes, key, period: key.bucket, bytes: sums.bytes(at: index), hits: sums.hits(at: index), name: name, protocolName: protocolName)
        }
    }

    /// Adds a batch's 5-minute sums to the hourly, daily and monthly tables. Ordered by account,
    /// domain and protocol first (the tables' key), the keys of one hour, day or month lie next to
    /// each other, so each is summed in one pass (an hour holding twelve 5-minute keys costs one
    /// upsert, not twelve).
    func addRollups(_ sums: BandwidthSums, name: (Int32) -> ByteLine, protocolName: (UInt8) -> ByteLine) throws {
        let keys = sums.allKeys
        let byAccount = SortOrder(keys, name: name, protocolName: protocolName).indices(keys, periodFirst: false)
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
                try run(statement, first, period: start, bytes: bytes, hits: hits, name: name, protocolName: protocolName)
            }
        }
    }

    private func run(
        _ statement: PreparedStatement, _ key: BandwidthKey, period: Int64, bytes: Int64, hits: Int64,
        name: (Int32) -> ByteLine, protocolName: (UInt8) -> ByteLine
    ) throws {
        statement.bind(1, name(key.user))
        statement.bind(2, name(key.domain))
        statement.bind(3, protocolName(key.protocolIndex))
        statement.bind(4, period)
        statement.bind(5, bytes)
        statement.bind(6, hits)
        try statement.run()
    }

    /// Each name's and protocol's place among a batch's in byte order (memcmp, then the shorter first).
    private struct SortOrder {
        /// By name id (the ids of a batch's names are small: they index the driver's name table).
        private var rank: [UInt64] = []
        private var protocolRank: [UInt64] = []

        init(_ keys: [BandwidthKey], name: (Int32) -> ByteLine, protocolName: (UInt8) -> ByteLine) {
            var ids = Set<Int32>()
            for key in keys {
                ids.insert(key.user)
                ids.insert(key.domain)
            }
            rank = Array(repeating: 0, count: Int(ids.max() ?? 0) + 1)
            for (place, id) in ids.sorted(by: { Self.precedes(name($0), name($1)) }).enumerated() { rank[Int(id)] = UInt64(place) }
            let protocols = (0..<UInt8(BandwidthProtocol.allCases.count)).sorted { Self.precedes(protocolName($0), protocolName($1)) }
            protocolRank = Array(repeating: 0, count: protocols.count)
            for (place, index) in protocols.enumerated() { protocolRank[Int(index)] = UInt64(place) }
        }

        /// The keys' indices by (account, domain, protocol, bucket), or with the bucket first. Each
        /// key is packed into two words first (names: account and domain places below 2^30, which a
        /// batch's few thousand names are), so the sort compares integers.
        func indices(_ keys: [BandwidthKey], periodFirst: Bool) -> [Int] {
            var entries: [(major: UInt64, minor: UInt64, index: Int)] = []
            entries.reserveCapacity(keys.count)
            for (index, key) in keys.enumerated() {
                let names = rank[Int(key.user)] << 34 | rank[Int(key.domain)] << 2 | protocolRank[Int(key.protocolIndex)]
                let bucket = UInt64(bitPattern: key.bucket) ^ (1 << 63)  // signed order as unsigned
                entries.append(periodFirst ? (bucket, names, index) : (names, bucket, index))
            }
            entries.sort { $0.major != $1.major ? $0.major < $1.major : $0.minor < $1.minor }
            return entries.map(\.index)
        }

        private static func precedes(_ a: ByteLine, _ b: ByteLine) -> Bool {
            let c = memcmp(a.base, b.base, min(a.count, b.count))
            return c != 0 ? c < 0 : a.count < b.count
        }
    }
}

