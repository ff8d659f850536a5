import Glibc
import Foundation

/// Runs an operator's command (a restart script, a notification hook) so that it can never hang
/// or flood the daemon: `/bin/sh -c COMMAND` or an executable with arguments, in a process group
/// of its own, stdin from `/dev/null`, stdout and stderr captured together up to a byte limit,
/// and the whole group stopped (SIGTERM, then SIGKILL two seconds later) at the timeout.
///
/// Why not Foundation's `Process`: it cannot put the child in its own process group (a restart
/// script's children must be stopped with it), and waiting for the pipe's end of file would hang
/// on a daemon that the script started and that kept the pipe open; here the wait is for the
/// process itself, and whatever is still in the pipe when it exits is drained without blocking.
/// Descriptors of this process other than the three standard ones are closed in the child.
public enum BoundedCommand {
    public struct Result: Sendable, Equatable {
        /// The exit status, or nil when killed by a signal (the timeout included).
        public var exitStatus: Int32?
        public var timedOut: Bool
        /// Standard output and error, at most `outputLimit` bytes (invalid UTF-8 replaced).
        public var output: String
        /// More output was written than kept.
        public var truncated: Bool
        public var seconds: Double

        public var succeeded: Bool { exitStatus == 0 && !timedOut }
    }

    public struct LaunchFailure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// `/bin/sh -c command`.
    public static func shell(_ command: String, timeout: Double, outputLimit: Int = 4096, environment: [String: String] = [:]) throws(LaunchFailure) -> Result {
        try run(executable: "/bin/sh", arguments: ["-c", command], timeout: timeout, outputLimit: outputLimit, environment: environment)
    }

    public static func run(executable: String, arguments: [String], timeout: Double, outputLimit: Int = 4096, environment: [String: String] = [:]) throws(LaunchFailure) -> Result {
        let started = Deadline.now
        let child = try ChildProcess.spawn(executable: executable, arguments: arguments, environment: environment, input: .devNull, separateErrors: false)
        let pid = child.pid, readEnd = child.output
        var keepReadEndOpen = false
        defer { if !keepReadEndOpen { close(readEnd) } }

        var kept: [UInt8] = []
        var truncated = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        func drain(waitMilliseconds: Int32) -> Bool {
            var fds = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            guard poll(&fds, 1, waitMilliseconds) > 0 else { return false }
            let n = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress!, $0.count) }
            guard n > 0 else { return false }
            let room = max(0, outputLimit - kept.count)
            if n > room { truncated = true }
            kept.append(contentsOf: buffer[0..<min(n, room)])
            return true
        }

        let deadline = Deadline(started.instant.advanced(by: .seconds(timeout)))
        var status: Int32 = 0
        var exited = false
        var timedOut = false
        var pipeOpen = true
        var lost: String? = nil
        while !exited {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { exited = true; break }
            if result < 0, errno != EINTR {
                // ECHILD when SIGCHLD is ignored (children reaped behind our back): the status is
                // unknown, which is not success.
                lost = String(cString: strerror(errno))
                break
            }
            if deadline.hasPassed {
                timedOut = true
                kill(-pid, SIGTERM)
                let hardDeadline = Deadline.after(seconds: 2)
                while waitpid(pid, &status, WNOHANG) == 0 && !hardDeadline.hasPassed { usleep(20_000) }
                kill(-pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                exited = true
                break
            }
            if pipeOpen {
                var fds = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
                if poll(&fds, 1, 20) > 0 {
                    if fds.revents & Int16(POLLIN) != 0 {
                        if !drain(waitMilliseconds: 0) { pipeOpen = false }
                    } else {
                        pipeOpen = false // hung up
                    }
                }
            } else {
                usleep(20_000)
            }
        }
        // What is in the pipe now (bounded), without waiting for processes the command left running.
        var drained = 0
        while pipeOpen, drained < 64, drain(waitMilliseconds: 0) { drained += 1 }
        if pipeOpen {
            // A daemon the command started still holds the pipe: keep reading (and discarding) on a
            // thread of its own until it lets go, so that its writes never meet a closed pipe (and
            // SIGPIPE, whose default the child was given, never kills it).
            var fds = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            let hungUp = poll(&fds, 1, 0) > 0 && fds.revents & Int16(POLLHUP) != 0 && fds.revents & Int16(POLLIN) == 0
            if !hungUp {
                keepReadEndOpen = true
                let fd = readEnd
                let drainer = Thread {
                    var sink = [UInt8](repeating: 0, count: 4096)
                    while true {
                        let n = sink.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
                        if n > 0 { continue }
                        if n < 0, errno == EINTR { continue }
                        break
                    }
                    close(fd)
                }
                drainer.name = "command output drain"
                drainer.start()
            }
        }
        let signaled = (status & 0x7F) != 0
        let exitStatus: Int32? = (!timedOut && !signaled && lost == nil) ? (status >> 8) & 0xFF : nil
        var output = String(decoding: kept, as: UTF8.self)
        if let lost { output += "(cannot wait for the command: \(lost))" }
        return Result(
            exitStatus: exitStatus, timedOut: timedOut,
            output: output, truncated: truncated,
            seconds: started.secondsAgo)
    }
}
