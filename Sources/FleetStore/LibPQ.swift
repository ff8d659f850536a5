#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import TailWatchEngine

/// PostgreSQL's own client library, `libpq.so.5`, loaded when the fleet is first used.
///
/// Why libpq and not postgres-nio: libpq is what `psql` speaks with, it reads `sslmode`,
/// `PGPASSWORD`, `~/.pgpass` and every connection-string keyword the way an operator's other tools
/// do, and it is one shared library (Debian: `libpq5`, pulled in by `postgresql-client`). Bound at
/// run time like PCRE2, it costs the build nothing: postgres-nio brings SwiftNIO and its TLS stack,
/// 2.5 to 4.5 minutes more per clean build on this machine, for a shipper that sends one batch at
/// a time from its own thread. Only the functions TailWatch calls are declared here, from libpq's
/// stable C ABI (soname 5 since PostgreSQL 8.2). A machine without the library runs everything but
/// the fleet, which says what to install.
///
/// `TAILWATCH_LIBPQ` names another file to load (a libpq built elsewhere, or a missing one).
struct LibPQ: Sendable {
    typealias ConnectParams = @convention(c) (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?, Int32) -> OpaquePointer?
    typealias ConnectionInt = @convention(c) (OpaquePointer?) -> Int32
    typealias ConnectionText = @convention(c) (OpaquePointer?) -> UnsafeMutablePointer<CChar>?
    typealias Finish = @convention(c) (OpaquePointer?) -> Void
    typealias Exec = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> OpaquePointer?
    typealias ExecParams = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int32, UnsafePointer<UInt32>?,
                                          UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?, Int32) -> OpaquePointer?
    typealias ResultInt = @convention(c) (OpaquePointer?) -> Int32
    typealias ResultText = @convention(c) (OpaquePointer?) -> UnsafeMutablePointer<CChar>?
    typealias ErrorField = @convention(c) (OpaquePointer?, Int32) -> UnsafeMutablePointer<CChar>?
    typealias GetValue = @convention(c) (OpaquePointer?, Int32, Int32) -> UnsafeMutablePointer<CChar>?
    typealias GetIsNull = @convention(c) (OpaquePointer?, Int32, Int32) -> Int32
    typealias ParameterStatus = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> UnsafePointer<CChar>?

    // Constants of libpq-fe.h and postgres_ext.h (fixed by the ABI).
    static let connectionOK: Int32 = 0
    static let commandOK: Int32 = 1
    static let tuplesOK: Int32 = 2
    static let diagnosticSQLState: Int32 = 0x43  // 'C'

    let connectParams: ConnectParams
    let status: ConnectionInt
    let errorMessage: ConnectionText
    let finish: Finish
    let exec: Exec
    let execParams: ExecParams
    let resultStatus: ResultInt
    let resultErrorMessage: ResultText
    let resultErrorField: ErrorField
    let tupleCount: ResultInt
    let fieldCount: ResultInt
    let getValue: GetValue
    let getIsNull: GetIsNull
    let clear: Finish
    let sslInUse: ConnectionInt
    let parameterStatus: ParameterStatus

    /// The library, loaded once per process.
    static let shared: Result<LibPQ, PostgresError> = {
        do throws(PostgresError) {
            return .success(try LibPQ(path: ProcessInfo.processInfo.environment["TAILWATCH_LIBPQ"] ?? "libpq.so.5"))
        } catch {
            return .failure(error)
        }
    }()

    private init(path: String) throws(PostgresError) {
        let library: DynamicLibrary
        do { library = try DynamicLibrary(path: path) } catch { throw .libraryMissing(error.reason) }
        func bind<F>(_ name: String, as type: F.Type) throws(PostgresError) -> F {
            do { return try library.function(name, as: type) } catch { throw .libraryMissing(error.reason) }
        }
        connectParams = try bind("PQconnectdbParams", as: ConnectParams.self)
        status = try bind("PQstatus", as: ConnectionInt.self)
        errorMessage = try bind("PQerrorMessage", as: ConnectionText.self)
        finish = try bind("PQfinish", as: Finish.self)
        exec = try bind("PQexec", as: Exec.self)
        execParams = try bind("PQexecParams", as: ExecParams.self)
        resultStatus = try bind("PQresultStatus", as: ResultInt.self)
        resultErrorMessage = try bind("PQresultErrorMessage", as: ResultText.self)
        resultErrorField = try bind("PQresultErrorField", as: ErrorField.self)
        tupleCount = try bind("PQntuples", as: ResultInt.self)
        fieldCount = try bind("PQnfields", as: ResultInt.self)
        getValue = try bind("PQgetvalue", as: GetValue.self)
        getIsNull = try bind("PQgetisnull", as: GetIsNull.self)
        clear = try bind("PQclear", as: Finish.self)
        sslInUse = try bind("PQsslInUse", as: ConnectionInt.self)
        parameterStatus = try bind("PQparameterStatus", as: ParameterStatus.self)
    }
}
