import Foundation
import Testing
import TestSupport

import Glibc

/// `Type=notify`: started by systemd (`NOTIFY_SOCKET` set), the daemon says `READY=1` once it runs,
/// and `STOPPING=1` when asked to stop. Here the test is systemd: it binds the datagram socket.
@Suite struct SystemdNotifyTests {
    @Test func theDaemonSaysReadyAndStopping() throws {
        let f = try DaemonFixture()
        try LogWriter.append(f.mainlog, MainlogGenerator.lines(0..<5))
        let path = f.folder.file("notify.sock")
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        func receive() -> String {
            var buffer = [UInt8](repeating: 0, count: 512)
            let n = recv(fd, &buffer, buffer.count, 0)
            return n > 0 ? String(decoding: buffer[..<n], as: UTF8.self) : ""
        }

        let daemon = try f.startForeground(environment: ["NOTIFY_SOCKET": path])
        let ready = receive()
        #expect(ready.hasPrefix("READY=1") && ready.contains("MAINPID=\(daemon.processIdentifier)"), "\(ready)")
        daemon.terminate()
        #expect(receive() == "STOPPING=1")
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus == 0)
    }
}
