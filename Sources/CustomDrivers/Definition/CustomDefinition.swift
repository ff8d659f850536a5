import Foundation
import TailWatchEngine

/// A custom driver as its definition file describes it, checked: what to tail, how a line becomes
/// values, and what to store.
///
/// Why a checked value type: everything an operator can get wrong (a column without a capture, a
/// counter keyed by an unknown column, a name that is not an identifier) is refused while reading
/// the file, with the file, line and key; the driver that runs never meets such a state.
public struct CustomDefinition: Sendable {
    /// The file's stem; the driver's name in the configuration, the logs and the reports.
    public let name: String
    /// The `NAME.toml` file.
    public let file: String
    public let description: String
    public let version: String
    public let enabled: Bool
    public let sources: [LogSource]
    /// A literal the line must contain before anything else runs.
    let contains: String?
    let parser: Parser
    /// In file order; each column's value comes from the capture, field or JSON key of its name.
    public let columns: [CustomColumn]
    /// The timestamp column that dates a line, if any (else the time it was read).
    let timeColumn: Int?
    public let storeLines: Bool
    public let counter: CounterSpec?
    /// Rows and counter buckets older than this are deleted; 0 keeps them forever.
    let keepDays: Int

    /// How a line becomes the columns' raw values.
    enum Parser: Sendable {
        /// A PCRE2 pattern with a named capture per column.
        case regex(pattern: String, matchLimit: UInt32)
        /// Fields split on a byte (or on runs of blanks); `fields[i]` names the column of field i.
        case split(Separator, fields: [String?])
        /// An external program answers each line with JSON (see `ExternalProgram`).
        case program(path: String, answerTimeout: Double)
    }

    enum Separator: Sendable, Equatable {
        case blanks
        case byte(UInt8)
    }

    /// Counters per key and time bucket, e.g. failed logins per IP per 5 minutes.
    public struct CounterSpec: Sendable, Equatable {
        /// Indexes into `columns`.
        public let by: [Int]
        public let bucketSeconds: Int
        /// An integer column summed per key and bucket, besides the count.
        public let sum: Int?
    }

    public var isExternal: Bool {
        if case .program = parser { true } else { false }
    }

    /// The table of stored lines and the table of counters.
    public var linesTable: String { Self.linesTable(name) }
    public var countsTable: String { Self.countsTable(name) }

    /// The tables of the driver named `driver` (reports and the fleet know a driver by its name only).
    public static func linesTable(_ driver: String) -> String { "custom_\(driver)" }
    public static func countsTable(_ driver: String) -> String { "custom_\(driver)_counts" }
}

/// One typed column of a custom driver.
public struct CustomColumn: Sendable, Equatable {
    public let name: String
    public let type: ColumnType
}
