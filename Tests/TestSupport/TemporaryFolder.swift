import Foundation

/// A fresh folder under the system's temporary directory, removed when the value is released.
/// Tests write real logs, configurations and databases here.
public final class TemporaryFolder: @unchecked Sendable {
    public let path: String

    public init(_ label: String = "tailwatch") {
        let template = (NSTemporaryDirectory() as NSString).appendingPathComponent("\(label)-XXXXXX")
        var bytes = Array(template.utf8CString)
        let made = bytes.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "cannot create a temporary folder")
        path = String(cString: bytes)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Writes `text` to `name`, replacing it.
    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        let p = file(name)
        try text.write(toFile: p, atomically: false, encoding: .utf8)
        return p
    }
}

/// Appends to a log file the way a daemon does: open, append, close.
public enum LogWriter {
    public static func append(_ path: String, _ text: String) throws {
        try append(path, Array(text.utf8))
    }

    public static func append(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            guard n > 0 else { throw CocoaError(.fileWriteUnknown) }
            written += n
        }
    }

    /// Truncates in place (what copytruncate's second step does).
    public static func truncate(_ path: String, to size: Int64 = 0) {
        _ = Foundation.truncate(path, off_t(size))
    }

    public static func rename(_ from: String, _ to: String) {
        _ = Foundation.rename(from, to)
    }

    public static func remove(_ path: String) {
        _ = unlink(path)
    }

    /// Copies `from` to a new file `to` (what copytruncate's first step does).
    public static func copy(_ from: String, _ to: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: from))
        try data.write(to: URL(fileURLWithPath: to))
    }
}
