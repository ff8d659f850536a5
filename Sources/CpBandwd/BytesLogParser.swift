import TailWatchEngine

/// cPanel's `DOMAIN-bytes_log`: `VHOST EPOCH BYTES .` per line (Apache `%v %{%s}t %I .` for bytes
/// received and `%v %{%s}t %O .` for bytes sent).
public struct BytesLogParser {
    public init() {}

    /// (time, bytes), or nil when the line is not one (rejected as `notBytesLog`).
    public func parse(_ line: ByteLine) -> (time: Int64, bytes: Int64)? {
        guard let a = line.firstIndex(of: 0x20), a > 0,
              let b = line.firstIndex(of: 0x20, from: a + 1),
              let time = line.slice((a + 1)..<b).decimalValue else { return nil }
        let c = line.firstIndex(of: 0x20, from: b + 1) ?? line.count
        let field = line.slice((b + 1)..<c)
        guard field.count <= 15, let bytes = field.decimalValue else { return nil }
        return (time, bytes)
    }
}

extension RejectReason {
    public static let notBytesLog = RejectReason("not a bytes_log line (VHOST EPOCH BYTES .)")
}
