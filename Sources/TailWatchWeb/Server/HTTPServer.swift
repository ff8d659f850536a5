import Foundation
import Logging
import Synchronization
import TailWatchEngine

/// A small HTTP/1.1 server for the daemon's pages: GET and HEAD, keep-alive, a thread per
/// connection, and hard limits on everything a client controls.
///
/// Why not a framework: what is served is a handful of read-only pages on loopback or behind a
/// password, and a framework (Hummingbird pulls in SwiftNIO) adds minutes to every clean build and
/// CI run for features that are not used here. The limits an exposed server needs are few and are
/// all in this file: a request head of at most 16 KiB read within 10 s, no body, at most 64
/// connections at once (more are answered 503), at most 1,000 requests on one connection, and an
/// idle connection closed after 15 s.
public final class HTTPServer: Sendable {
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

    public static let maxHeadBytes = 16 * 1024
    public static let headSeconds = 10
    public static let idleSeconds = 15
    public static let maxConnections = 64
    public static let maxRequestsPerConnection = 1000

    /// Why the server could not start.
    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    private let listenFD: Int32
    /// `ADDRESS:PORT` as bound, for the log.
    public let addressDescription: String
    /// The port bound (the one asked for, or the one the system chose for port 0).
    public let port: UInt16
    private let handler: Handler
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var stopping = false
        var connections = 0
        var acceptLoopDone = false
    }

    /// Binds and listens on `address:port` now (so a port in use is known at once); serving starts
    /// with `start()`.
    public init(address: IPAddress, port: UInt16, logger: Logger, handler: @escaping Handler) throws(StartError) {
        self.handler = handler
        self.logger = logger
        let fd = socket(address.family == .v4 ? AF_INET : AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw StartError(description: "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound: Int32
        var storage = sockaddr_storage()
        var length: socklen_t
        if address.family == .v4 {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = port.bigEndian
            a.sin_addr.s_addr = UInt32(truncatingIfNeeded: address.low).bigEndian
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            withUnsafeMutableBytes(of: &storage) { target in withUnsafeBytes(of: &a) { target.copyMemory(from: $0) } }
        } else {
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &a.sin6_addr) { raw in
                withUnsafeBytes(of: address.high.bigEndian) { raw.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: 8) }
                withUnsafeBytes(of: address.low.bigEndian) { (raw.baseAddress! + 8).copyMemory(from: $0.baseAddress!, byteCount: 8) }
            }
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            withUnsafeMutableBytes(of: &storage) { target in withUnsafeBytes(of: &a) { target.copyMemory(from: $0) } }
        }
        bound = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, listen(fd, 128) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw StartError(description: "cannot listen on \(address.family == .v6 ? "[\(address)]" : "\(address)"):\(port): \(reason)")
        }
        length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let boundPort = withUnsafeBytes(of: storage) { raw -> UInt16 in
            // sin_port and sin6_port sit at the same offset, just after the family.
            UInt16(bigEndian: raw.load(fromByteOffset: 2, as: UInt16.self))
        }
        self.listenFD = fd
        self.port = boundPort
        self.addressDescription = address.family == .v6 ? "[\(address)]:\(boundPort)" : "\(address):\(boundPort)"
    }

    /// Accepts connections on a thread of its own until `stop()`.
    public func start() {
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// Stops accepting and closes the listening socket; connections being served finish their
    /// current request.
    public func stop() {
        state.withLock { $0.stopping = true }
        shutdown(listenFD, Int32(SHUT_RDWR))
        // The accept loop polls with a short timeout; wait for it so the descriptor is closed once.
        for _ in 0..<50 where !state.withLock({ $0.acceptLoopDone }) { usleep(20_000) }
        close(listenFD)
    }

    private func acceptLoop() {
        defer { state.withLock { $0.acceptLoopDone = true } }
        while !state.withLock({ $0.stopping }) {
            var pfd = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 200) > 0 else { continue }
            let client = accept(listenFD, nil, nil)
            guard client >= 0 else {
                if errno == EMFILE || errno == ENFILE { usleep(100_000) }
                continue
            }
            // Not inherited by the services chkservd restarts.
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            let admitted = state.withLock { s -> Bool in
                guard s.connections < Self.maxConnections else { return false }
                s.connections += 1
                return true
            }
            guard admitted else {
                let connection = Connection(fd: client)
                connection.send(Self.encode(.text(503, "too many connections; try again"), head: false, keepAlive: false))
                close(client)
                continue
            }
            Thread.detachNewThread { [self] in
                serve(Connection(fd: client))
                close(client)
                state.withLock { $0.connections -= 1 }
            }
        }
    }

    private func serve(_ connection: Connection) {
        var one: Int32 = 1
        setsockopt(connection.fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(connection.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        timeout.tv_sec = 10
        setsockopt(connection.fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer: [UInt8] = []
        for served in 1...Self.maxRequestsPerConnection {
            switch connection.readHead(into: &buffer, stopping: { self.state.withLock { $0.stopping } }) {
            case .closed:
                return
            case .refused(let status, let reason):
                connection.send(Self.encode(.text(status, reason), head: false, keepAlive: false))
                return
            case .head(let end):
                let head = buffer[..<end]
                let parsed: HTTPRequestHead.Parsed
                do {
                    parsed = try HTTPRequestHead.parse(head)
                } catch {
                    connection.send(Self.encode(.text(error.status, error.reason), head: false, keepAlive: false))
                    return
                }
                buffer.removeFirst(end + 4)
                let keepAlive = parsed.keepAlive && served < Self.maxRequestsPerConnection && !state.withLock { $0.stopping }
                let response = handler(parsed.request)
                guard connection.send(Self.encode(response, head: parsed.request.method == .head, keepAlive: keepAlive)), keepAlive else { return }
            }
        }
    }

    /// Status line, headers and body. Every response forbids caching and sniffing, and pages may
    /// load nothing from another host.
    static func encode(_ response: HTTPResponse, head: Bool, keepAlive: Bool) -> [UInt8] {
        var text = "HTTP/1.1 \(response.status) \(HTTPResponse.reason(response.status))\r\n"
        text += "Content-Type: \(response.contentType)\r\nContent-Length: \(response.body.count)\r\n"
        text += "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n"
        text += "Content-Security-Policy: default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'\r\n"
        for (name, value) in response.headers { text += "\(name): \(value)\r\n" }
        text += keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n"
        return Array(text.utf8) + (head ? [] : response.body)
    }
}

/// One accepted socket: reading a request head within the limits, and writing whole responses.
struct Connection {
    let fd: Int32

    enum HeadRead {
        /// The head ends at this index (before its blank line's `\r\n\r\n`).
        case head(Int)
        case closed
        case refused(Int, String)
    }

    /// Reads until `buffer` holds a whole head. Idle connections close after `idleSeconds`; a head
    /// begun must be complete within `headSeconds`.
    func readHead(into buffer: inout [UInt8], stopping: () -> Bool) -> HeadRead {
        var started: ContinuousClock.Instant? = buffer.isEmpty ? nil : .now
        let opened = ContinuousClock.now
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let end = Self.headEnd(buffer) {
                return end > HTTPServer.maxHeadBytes ? .refused(431, "request head over \(HTTPServer.maxHeadBytes) bytes") : .head(end)
            }
            if buffer.count > HTTPServer.maxHeadBytes { return .refused(431, "request head over \(HTTPServer.maxHeadBytes) bytes") }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                if started == nil { started = .now }
                buffer.append(contentsOf: chunk[..<n])
                continue
            }
            if n == 0 { return .closed }
            guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else { return .closed }
            if let started {
                if ContinuousClock.now - started > .seconds(HTTPServer.headSeconds) { return .refused(408, "request head not received within \(HTTPServer.headSeconds) s") }
            } else if ContinuousClock.now - opened > .seconds(HTTPServer.idleSeconds) || stopping() {
                return .closed
            }
        }
    }

    static func headEnd(_ buffer: [UInt8]) -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4) where buffer[i] == 0x0D && buffer[i + 1] == 0x0A && buffer[i + 2] == 0x0D && buffer[i + 3] == 0x0A {
            return i
        }
        return nil
    }

    /// Writes all of `bytes`; false when the peer went away.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }
}
