/// Thrown by a driver's `ingest` when it cannot decide the line now and the line must not be lost
/// (an external driver's program died before it ever answered): the engine rolls the open batch
/// back, rewinds every file to its committed position, and reads on without that driver's files
/// while its `acceptsLines` is false. Nothing is counted as failed; the line is read again later.
///
/// Why not any other error: those mean the database failed, and the engine then waits with
/// backoff for every driver; one driver's broken helper must only hold back that driver.
public struct DriverPaused: Error, CustomStringConvertible, Sendable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
