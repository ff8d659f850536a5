import GRDB
import GRDBSQLite

/// A prepared statement driven through SQLite's C API, for the per-row hot path.
///
/// Why not GRDB's `execute(arguments:)`: building `StatementArguments` allocates per row, on the
/// path every stored event takes. Text is bound straight from the line's bytes without
/// a copy (`SQLITE_STATIC`): the bytes must stay valid until `run()` returns, and every `run()`
/// must be preceded by binding every parameter (so no pointer from an earlier row is ever read).
///
/// It calls SQLite only, never GRDB's `Database`: a driver may run it on a thread of its own while
/// the engine's thread does no database work (`PipelinedWalk`'s `finish`, settled by the engine
/// before it or another driver uses the connection), one thread at a time.
public final class PreparedStatement {
    private let handle: OpaquePointer
    private let sql: String
    private let connection: OpaquePointer

    public init(_ db: Database, sql: String) throws {
        guard let connection = db.sqliteConnection else {
            throw StoreError.sqlite(code: SQLITE_MISUSE, message: "database is closed", sql: sql)
        }
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v3(connection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else {
            throw StoreError.sqlite(code: code, message: String(cString: sqlite3_errmsg(connection)), sql: sql)
        }
        self.handle = statement
        self.sql = sql
        self.connection = connection
    }

    deinit { sqlite3_finalize(handle) }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    @inline(__always) public func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(handle, index, value)
    }

    @inline(__always) public func bind(_ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    @inline(__always) public func bind(_ index: Int32, _ bytes: ByteLine) {
        sqlite3_bind_text(handle, index, UnsafeRawPointer(bytes.base).assumingMemoryBound(to: CChar.self), Int32(bytes.count), nil)
    }

    @inline(__always) public func bind(_ index: Int32, _ bytes: ByteLine?) {
        if let bytes { bind(index, bytes) } else { sqlite3_bind_null(handle, index) }
    }

    /// Binds a copy of `text` (cold path).
    public func bind(_ index: Int32, _ text: String) {
        sqlite3_bind_text(handle, index, text, -1, Self.transient)
    }

    /// Binds a copy of `bytes` as a BLOB.
    public func bind(_ index: Int32, blob bytes: [UInt8]) {
        bytes.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), Self.transient) }
    }

    @inline(__always) public func bindNull(_ index: Int32) { sqlite3_bind_null(handle, index) }

    /// Runs the statement to completion (an INSERT, UPDATE or DELETE) and resets it.
    @inline(__always) public func run() throws {
        let code = sqlite3_step(handle)
        sqlite3_reset(handle)
        guard code == SQLITE_DONE || code == SQLITE_ROW else { throw failure(code) }
    }

    /// Rows the last `run()` of any statement on this connection changed. Read from the connection
    /// itself (not GRDB's `Database`), so a driver's write step may ask from the thread it runs on.
    public var changes: Int { Int(sqlite3_changes(connection)) }

    /// The rowid the last INSERT on this connection made (see `changes`).
    public var lastInsertedRowID: Int64 { sqlite3_last_insert_rowid(connection) }

    /// Steps once and hands the first row to `row` (nil when there is none); resets afterwards.
    public func queryRow<T>(_ row: (RowReader) -> T) throws -> T? {
        defer { sqlite3_reset(handle) }
        let code = sqlite3_step(handle)
        if code == SQLITE_ROW { return row(RowReader(handle: handle)) }
        guard code == SQLITE_DONE else { throw failure(code) }
        return nil
    }

    /// The failure with SQLite's extended result code (e.g. 1555, a primary key conflict).
    private func failure(_ code: Int32) -> StoreError {
        StoreError.sqlite(code: sqlite3_extended_errcode(connection), message: String(cString: sqlite3_errmsg(connection)), sql: sql)
    }

    /// SQLITE_CONSTRAINT_PRIMARYKEY, which Swift does not import (a macro of a macro).
    public static let primaryKeyConflict: Int32 = 1555

    /// Columns of the current row, valid inside `queryRow`'s closure only.
    public struct RowReader {
        let handle: OpaquePointer
        public func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
        public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
        /// The column's exact bytes (text or blob); nil for NULL.
        public func bytes(_ column: Int32) -> [UInt8]? {
            guard sqlite3_column_type(handle, column) != SQLITE_NULL else { return nil }
            let count = Int(sqlite3_column_bytes(handle, column))
            guard count > 0, let p = sqlite3_column_blob(handle, column) else { return [] }
            return Array(UnsafeRawBufferPointer(start: p, count: count).bindMemory(to: UInt8.self))
        }

        public func text(_ column: Int32) -> String? {
            guard let p = sqlite3_column_text(handle, column) else { return nil }
            return String(cString: p)
        }
    }
}
