import Foundation

/// One connection to PostgreSQL through libpq: statements with text parameters, rows as text.
///
/// Used from one thread at a time (the shipper's, or a report's); libpq's calls block, which is
/// what a shipper sending one batch and waiting for its commit wants.
public final class PostgresConnection: @unchecked Sendable {
    private let pq: LibPQ
    private let handle: OpaquePointer

    /// Connects with a `postgres://` URL or `key=value` string. `password`, when given, overrides
    /// libpq's own sources (`PGPASSWORD`, `~/.pgpass`), which apply otherwise.
    public init(url: String, password: String?, applicationName: String = "tailwatchd") throws(PostgresError) {
        let pq = try LibPQ.shared.get()
        // Defaults first, then the URL (its own settings win), then the password. Keepalives and
        // a TCP timeout make a link that died silently fail in about a minute instead of the
        // kernel's quarter of an hour, so a shipper never hangs on it (nor a daemon's stop).
        var keywords = ["application_name", "connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout", "dbname"]
        var values = [applicationName, "10", "1", "30", "10", "3", "60000", url]
        if let password {
            keywords.append("password")
            values.append(password)
        }
        let cKeywords = keywords.map { strdup($0) }
        let cValues = values.map { strdup($0) }
        defer {
            cKeywords.forEach { free($0) }
            cValues.forEach { free($0) }
        }
        let k: [UnsafePointer<CChar>?] = cKeywords.map { UnsafePointer($0) } + [nil]
        let v: [UnsafePointer<CChar>?] = cValues.map { UnsafePointer($0) } + [nil]
        guard let handle = pq.connectParams(k, v, 1) else { throw .connection("out of memory") }
        guard pq.status(handle) == LibPQ.connectionOK else {
            let message = pq.errorMessage(handle).map { String(cString: $0) } ?? "unknown error"
            pq.finish(handle)
            throw .connection(Self.oneLine(message))
        }
        self.pq = pq
        self.handle = handle
    }

    deinit { pq.finish(handle) }

    /// Whether the connection is encrypted (TLS).
    public var usesTLS: Bool { pq.sslInUse(handle) == 1 }

    /// Runs `sql` (several statements allowed, no parameters): migrations, BEGIN, COMMIT.
    public func execute(_ sql: String) throws(PostgresError) {
        let result = pq.exec(handle, sql)
        defer { pq.clear(result) }
        try check(result)
    }

    /// Runs one statement with `$1…` parameters (nil is NULL) and returns its rows as text.
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> [[String?]] {
        let copies = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { copies.forEach { free($0) } }
        let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        let result = pointers.withUnsafeBufferPointer { buffer in
            pq.execParams(handle, sql, Int32(parameters.count), nil, buffer.baseAddress, nil, nil, 0)
        }
        defer { pq.clear(result) }
        try check(result)
        let rows = pq.tupleCount(result), columns = pq.fieldCount(result)
        var out: [[String?]] = []
        out.reserveCapacity(Int(rows))
        for r in 0..<rows {
            var row: [String?] = []
            row.reserveCapacity(Int(columns))
            for c in 0..<columns {
                row.append(pq.getIsNull(result, r, c) == 1 ? nil : pq.getValue(result, r, c).map { String(cString: $0) })
            }
            out.append(row)
        }
        return out
    }

    /// The first column of the first row, or nil (no row, or NULL).
    public func scalar(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> String? {
        guard let row = try query(sql, parameters).first, let value = row.first else { return nil }
        return value
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    public func transaction<T>(_ body: () throws(PostgresError) -> T) throws(PostgresError) -> T {
        try execute("BEGIN")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    private func check(_ result: OpaquePointer?) throws(PostgresError) {
        guard let result else {
            throw .connection(Self.oneLine(pq.errorMessage(handle).map { String(cString: $0) } ?? "no answer"))
        }
        let status = pq.resultStatus(result)
        guard status != LibPQ.commandOK && status != LibPQ.tuplesOK else { return }
        let state = pq.resultErrorField(result, LibPQ.diagnosticSQLState).map { String(cString: $0) } ?? ""
        let message = pq.resultErrorMessage(result).map { String(cString: $0) } ?? ""
        if pq.status(handle) != LibPQ.connectionOK {
            throw .connection(Self.oneLine(message.isEmpty ? (pq.errorMessage(handle).map { String(cString: $0) } ?? "") : message))
        }
        throw .statement(sqlState: state, message: Self.oneLine(message))
    }

    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: "; ")
    }
}
