import Foundation
import Logging
import Synchronization

/// Writes the daemon log in the contract's format:
/// `[PID] [YYYY-MM-DD HH:MM:SS +ZZZZ] [DRIVER|TailWatch] [INFO|WARN|ERR|DEBUG|trace] message`.
///
/// Why one shared sink: every driver and the engine log through `Logger`s labelled with their name,
/// and lines from several threads must never interleave; appends go through one locked descriptor
/// opened with `O_APPEND`, so logrotate's copytruncate works too. SIGHUP reopens the file.
public final class DaemonLogSink: Sendable {
    private struct State {
        var fd: Int32
        var echo: Bool
    }
    private let path: String?
    private let state: Mutex<State>
    private let pid = getpid()

    /// Logs to `path` (created with its folder if missing); nil logs to standard error only.
    /// `echoToStandardError` also copies each line to standard error (foreground on a terminal).
    public init(path: String?, echoToStandardError: Bool) throws {
        self.path = path
        var fd: Int32 = -1
        if let path {
            fd = try Self.open(path)
        }
        state = Mutex(State(fd: fd, echo: echoToStandardError || path == nil))
    }

    deinit {
        state.withLock { if $0.fd >= 0 { close($0.fd) } }
    }

    private static func open(_ path: String) throws -> Int32 {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        let fd = Foundation.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw ConfigError(file: path, line: nil, "cannot open the daemon log for appending: \(String(cString: strerror(errno)))")
        }
        return fd
    }

    /// Reopens the log file (after logrotate moved it away).
    public func reopen() {
        guard let path, let fd = try? Self.open(path) else { return }
        state.withLock {
            if $0.fd >= 0 { close($0.fd) }
            $0.fd = fd
        }
    }

    func write(label: String, level: Logger.Level, message: String) {
        let line = "[\(pid)] [\(Self.timestamp())] [\(label)] [\(Self.name(level))] \(message)\n"
        let bytes = Array(line.utf8)
        state.withLock { s in
            bytes.withUnsafeBytes { raw in
                if s.fd >= 0 { _ = Foundation.write(s.fd, raw.baseAddress, raw.count) }
                if s.echo { _ = Foundation.write(2, raw.baseAddress, raw.count) }
            }
        }
    }

    static func name(_ level: Logger.Level) -> String {
        switch level {
        case .trace: "trace"
        case .debug: "DEBUG"
        case .info, .notice: "INFO"
        case .warning: "WARN"
        case .error, .critical: "ERR"
        }
    }

    /// `YYYY-MM-DD HH:MM:SS +ZZZZ` in local time, as in the daemon log.
    public static func timestampString(_ date: Date) -> String { timestamp(date) }

    static func timestamp(_ date: Date = Date()) -> String {
        var t = time_t(date.timeIntervalSince1970)
        var parts = tm()
        localtime_r(&t, &parts)
        var buffer = [CChar](repeating: 0, count: 40)
        let n = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S %z", &parts)
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A `Logger` whose lines carry `label` (a driver's name, or "TailWatch").
    public func logger(label: String, level: Logger.Level) -> Logger {
        var logger = Logger(label: label) { _ in DaemonLogHandler(sink: self, label: label) }
        logger.logLevel = level
        return logger
    }
}

/// The `LogHandler` behind `DaemonLogSink.logger(label:level:)`.
public struct DaemonLogHandler: LogHandler {
    let sink: DaemonLogSink
    let label: String
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        sink.write(label: label, level: event.level, message: "\(event.message)")
    }
}
