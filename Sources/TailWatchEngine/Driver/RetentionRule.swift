import Foundation

/// Rows a driver keeps only for a while: those of `table` whose `column` is below the cutoff go.
/// A driver declares its rules (`LogDriver.retention`); the engine purges them (`RetentionPurge`).
///
/// Why declared rather than done by each driver: a purge of millions of rows must never make a
/// live commit wait, which takes slices sized by time, a cadence, and care under `--once`; one
/// implementation gets that right once.
public struct RetentionRule: Sendable {
    /// What the log says ("5-minute bandwidth rows", "mail event rows").
    public let label: String
    public let table: String
    /// Compared with the cutoff. It should lead the table's key or an index (a slice then reads
    /// only the rows it deletes).
    public let column: String
    /// The columns that name one row: `["rowid"]`, or a WITHOUT ROWID table's primary key.
    public let key: [String]
    /// Rows with `column < cutoff(now)` go; nil keeps everything (retention off).
    public let cutoff: @Sendable (Date) -> Int64?
    /// Rows in the first slice (later ones are sized by time).
    public let firstSlice: Int

    public init(
        label: String, table: String, column: String, key: [String] = ["rowid"], firstSlice: Int = 20_000,
        cutoff: @escaping @Sendable (Date) -> Int64?
    ) {
        self.label = label
        self.table = table
        self.column = column
        self.key = key
        self.firstSlice = firstSlice
        self.cutoff = cutoff
    }
}
