/// What became of one line a driver was handed.
///
/// Why three cases: the contract counts lines read, events written and lines rejected per driver;
/// "ignored" is a line the driver recognised and has no use for (a queue run, a TLS notice), which is
/// neither an error nor data.
public enum LineOutcome: Sendable, Equatable {
    /// The line produced this many events (rows or aggregate updates) in the open batch.
    case stored(events: Int)
    /// A known kind of line that carries nothing this driver accounts.
    case ignored
    /// A line the driver could not read; counted by reason and warned about (rate-limited).
    case rejected(RejectReason)
}

/// Why a line was rejected, as a short phrase an operator can act on ("no timestamp", "NUL byte").
///
/// Declare them as `static let` constants so the hot path copies a reference, never builds a string.
public struct RejectReason: Sendable, Hashable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }

    public static let nulByte = RejectReason("NUL byte in line")
    public static let overlong = RejectReason("line longer than max_line_bytes")
}
