import Glibc
import Foundation
import TailWatchEngine

/// Talks to a service the way a client would: connect (TCP on 127.0.0.1, or a Unix socket) within
/// the connect timeout, then the one-shot SEND/EXPECT exchange or the TRANSACTION script, all within
/// the read timeout. Non-blocking sockets and `poll`, so a service that accepts and then says
/// nothing costs exactly the timeout and no thread is stuck.
public struct SocketProbe {
    public struct Outcome: Sendable, Equatable {
        public var ok: Bool
        /// From the start of the connect to the end of the exchange.
        public var seconds: Double
        /// What failed, for the log and the table ("connect: Connection refused").
        public var detail: String
    }

    let definition: ServiceDefinition

    public init(_ definition: ServiceDefinition) {
        self.definition = definition
    }

    public func run() -> Outcome {
        let started = Deadline.now
        func done(_ ok: Bool, _ detail: String) -> Outcome {
            Outcome(ok: ok, seconds: started.secondsAgo, detail: detail)
        }
        let limits = definition.limits
        let fd: Int32
        switch connectSocket(timeout: limits.connectTimeout) {
        case .success(let s): fd = s
        case .failure(let error): return done(false, error.message)
        }
        defer { close(fd) }
        var connection = Connection(fd: fd, deadline: .after(seconds: limits.readTimeout))
        if let send = definition.send {
            if let error = connection.write(ServiceDefinition.wire(send)) { return done(false, error) }
        }
        if let expect = definition.expect {
            switch connection.readForMatch(expect) {
            case .failure(let error): return done(false, error.message)
            case .success(let reply):
                guard Self.matches(reply, expect) else {
                    return done(false, "reply '\(Self.printable(reply))' does not start with '\(Self.printable(expect))'")
                }
                connection.dropLine() // a TRANSACTION that follows starts at the next line
            }
        }
        for (index, step) in definition.transaction.enumerated() {
            switch step {
            case .send(let text):
                if let error = connection.write(ServiceDefinition.wire(text)) { return done(false, "transaction step \(index + 1): \(error)") }
            case .expect(let pattern):
                switch connection.readLine() {
                case .failure(let error): return done(false, "transaction step \(index + 1): \(error.message)")
                case .success(let line):
                    guard Self.matches(line, pattern) else {
                        return done(false, "transaction step \(index + 1): '\(Self.printable(line))' does not start with '\(Self.printable(pattern))'")
                    }
                }
            }
        }
        return done(true, "")
    }

    struct ProbeError: Error { let message: String }

    private func connectSocket(timeout: Double) -> Result<Int32, ProbeError> {
        let fd: Int32
        var result: Int32
        switch definition.endpoint {
        case .none:
            return .failure(ProbeError(message: "no socket to check"))
        case .tcp(let port):
            guard let s = Self.nonBlockingSocket(AF_INET) else { return .failure(ProbeError(message: "socket: \(String(cString: strerror(errno)))")) }
            fd = s
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            result = Self.startConnect(fd, &address)
        case .unix(let path):
            guard let s = Self.nonBlockingSocket(AF_UNIX) else { return .failure(ProbeError(message: "socket: \(String(cString: strerror(errno)))")) }
            fd = s
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            let capacity = MemoryLayout.size(ofValue: address.sun_path)
            guard bytes.count < capacity else {
                close(fd)
                return .failure(ProbeError(message: "socket path longer than \(capacity - 1) bytes"))
            }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, b) in bytes.enumerated() { raw[i] = b }
                raw[bytes.count] = 0
            }
            result = Self.startConnect(fd, &address)
        }
        if result != 0 {
            // EAGAIN on a Unix socket is not "in progress": the listener's backlog is full, it has
            // stopped accepting (exactly the hang chkservd is for).
            if errno == EAGAIN, case .unix = definition.endpoint {
                close(fd)
                return .failure(ProbeError(message: "connect: not accepting connections (listen backlog full)"))
            }
            guard errno == EINPROGRESS else {
                let message = "connect: \(String(cString: strerror(errno)))"
                close(fd)
                return .failure(ProbeError(message: message))
            }
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&p, 1, Int32(timeout * 1000))
            guard ready > 0 else {
                close(fd)
                return .failure(ProbeError(message: "connect: no answer within \(Int(timeout)) s"))
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else {
                close(fd)
                return .failure(ProbeError(message: "connect: \(String(cString: strerror(error)))"))
            }
        }
        return .success(fd)
    }

    private static func nonBlockingSocket(_ family: Int32) -> Int32? {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        return fd
    }

    /// `connect(2)` with any socket address type.
    private static func startConnect<Address>(_ fd: Int32, _ address: inout Address) -> Int32 {
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<Address>.size)) }
        }
    }

    /// `text` starts with `pattern`, where `.` in the pattern matches any one character (cPanel's
    /// files use `HTTP/1..`).
    static func matches(_ text: String, _ pattern: String) -> Bool {
        let t = Array(text.utf8), p = Array(pattern.utf8)
        guard t.count >= p.count else { return false }
        for i in 0..<p.count where p[i] != 0x2E && p[i] != t[i] { return false }
        return true
    }

    static func printable(_ text: String, limit: Int = 80) -> String {
        let clipped = text.prefix(limit)
        return clipped.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : String($0) }.joined()
            + (text.count > limit ? "…" : "")
    }

    /// One connection's reads and writes, all before one deadline.
    struct Connection {
        let fd: Int32
        let deadline: Deadline
        var buffer: [UInt8] = []

        private func wait(_ events: Int16) -> Bool {
            let left = deadline.secondsLeft
            guard left > 0 else { return false }
            var p = pollfd(fd: fd, events: events, revents: 0)
            return poll(&p, 1, Int32(min(left, 3600) * 1000) + 1) > 0
        }

        mutating func write(_ text: String) -> String? {
            let bytes = Array(text.utf8)
            var sent = 0
            while sent < bytes.count {
                let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
                if n > 0 { sent += n; continue }
                if n < 0, errno == EAGAIN || errno == EINTR {
                    guard wait(Int16(POLLOUT)) else { return "send: timed out" }
                    continue
                }
                return "send: \(String(cString: strerror(errno)))"
            }
            return nil
        }

        /// Reads more bytes; false at end of file, an error or the deadline (with the reason).
        private mutating func fill() -> ProbeError? {
            guard wait(Int16(POLLIN)) else { return ProbeError(message: "no reply within the read timeout") }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n > 0 {
                buffer.append(contentsOf: chunk[0..<n])
                return nil
            }
            if n == 0 { return ProbeError(message: "connection closed") }
            if errno == EAGAIN || errno == EINTR { return nil }
            return ProbeError(message: "recv: \(String(cString: strerror(errno)))")
        }

        /// Enough of the reply to compare with `pattern`: its length, or a whole line, or what came
        /// before the peer closed.
        mutating func readForMatch(_ pattern: String) -> Result<String, ProbeError> {
            let need = pattern.utf8.count
            while buffer.count < need && !buffer.contains(0x0A) && buffer.count < 65536 {
                if let error = fill() {
                    if error.message == "connection closed", !buffer.isEmpty { break }
                    return .failure(error)
                }
            }
            return .success(String(decoding: buffer, as: UTF8.self))
        }

        /// Forgets the buffered text up to and including the first line end.
        mutating func dropLine() {
            if let newline = buffer.firstIndex(of: 0x0A) { buffer.removeFirst(newline + 1) } else { buffer.removeAll() }
        }

        /// The next line (without its line end).
        mutating func readLine() -> Result<String, ProbeError> {
            while true {
                if let newline = buffer.firstIndex(of: 0x0A) {
                    var line = Array(buffer[..<newline])
                    buffer.removeFirst(newline + 1)
                    if line.last == 0x0D { line.removeLast() }
                    return .success(String(decoding: line, as: UTF8.self))
                }
                if buffer.count >= 65536 { return .failure(ProbeError(message: "line longer than 64 KiB")) }
                if let error = fill() {
                    if error.message == "connection closed", !buffer.isEmpty {
                        let line = String(decoding: buffer, as: UTF8.self)
                        buffer.removeAll()
                        return .success(line)
                    }
                    return .failure(error)
                }
            }
        }
    }
}
