import TailWatchEngine

/// One thread's walk over a share of a block of access-log lines: bytes and requests per vhost and
/// 5-minute bucket, with vhost names interned in a table of its own.
///
/// Why its own names and sums: a catch-up reads hundreds of megabytes of access logs, and the
/// pieces of each block are parsed on two cores at once; the driver's name table and batch sums
/// are not shared with another thread, so each pass fills its own and the driver folds them into
/// the batch afterwards (a few hundred keys per block, against thousands of lines).
/// Unchecked: each pass is used by one thread at a time (the piece counter hands pieces out once
/// and the driver folds the passes only after both threads finished the block).
final class AccessPass: @unchecked Sendable {
    /// Marks the sums of a file whose domain comes from its name, not from its lines.
    static let fixedDomain: Int32 = -1

    // Used by one thread at a time (the driver waits for every pass before it reads their results),
    // and touched for every line: no dynamic exclusivity checks.
    @exclusivity(unchecked) private var parser = AccessLogParser()
    @exclusivity(unchecked) private(set) var sums = BandwidthSums(capacity: 1024)
    /// Per vhost (by id + 1): the bucket of its last request and where its sums are.
    @exclusivity(unchecked) private var recent: [(bucket: Int64, index: Int)] = []
    let vhosts = NameTable()
    /// The driver's name id for each of `vhosts`' ids, filled in as the driver folds the sums.
    @exclusivity(unchecked) var driverIDs: [Int32] = []

    /// Walks `block`: each line's bytes go to the sums under its vhost (or `fixedDomain` when
    /// `hasFixedDomain`), a line that is not a request is rejected in the block's tally.
    func run(_ block: inout LineBlock, hasFixedDomain: Bool) {
        while let line = block.next() {
            var domain = Self.fixedDomain
            var start = 0
            if !hasFixedDomain {
                guard let (host, rest) = Self.vhost(of: line) else {
                    block.reject(.noVhost)
                    continue
                }
                domain = vhosts.id(for: host)
                start = rest
            }
            switch parser.parse(line, from: start) {
            case .request(let r):
                add(domain: domain, bucket: BandwidthWriter.floor(r.time, 300), bytes: r.bytes)
                block.stored()
            case .rejected(let reason):
                block.reject(reason)
            }
        }
    }

    /// Empties the sums once the driver has folded them in.
    func clearSums() {
        sums.removeAll()
        for i in recent.indices { recent[i].bucket = .min }
    }

    /// A request's bytes into the sums. A vhost's lines come in time order, so most fall in the
    /// bucket of its line before: that one's place in the sums is kept per vhost and used without
    /// a lookup.
    @inline(__always) private func add(domain: Int32, bucket: Int64, bytes: Int64) {
        let slot = Int(domain) + 1  // `fixedDomain` is -1
        if slot < recent.count, recent[slot].bucket == bucket {
            sums.add(at: recent[slot].index, bytes: bytes)
            return
        }
        let index = sums.add(BandwidthKey(user: 0, domain: domain, protocolIndex: BandwidthProtocol.http.index, bucket: bucket), bytes: bytes)
        if slot >= recent.count { recent += Array(repeating: (.min, 0), count: slot - recent.count + 1) }
        recent[slot] = (bucket, index)
    }

    /// A vhost-first line's host (without `:port`) and where the rest of the line starts.
    @inline(__always) static func vhost(of line: ByteLine) -> (host: ByteLine, rest: Int)? {
        guard let space = line.firstIndex(of: 0x20), space > 0 else { return nil }
        let vhost = line.slice(0..<space)
        let host = vhost.lastIndex(of: 0x3A).map { vhost.slice(0..<$0) } ?? vhost
        guard host.count > 0 else { return nil }
        return (host, space + 1)
    }
}
