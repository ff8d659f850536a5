import Glibc
import Foundation
import Logging
import TailWatchEngine

/// The program of an external driver (`NAME.exec`), kept running: each line goes to its standard
/// input, and it answers on its standard output with one line of JSON before it gets the next.
///
/// Why one answer per line, in order: the line's effect must commit with its file position, so the
/// engine must know what a line produced before it moves on; a program that answers late makes
/// the tailer wait (back-pressure) rather than letting lines pile up in memory.
///
/// A program that exits or does not answer within the timeout is stopped (its whole process
/// group) and started again: at once the first time, then after 1, 2, 4 … 60 s while it keeps
/// failing; meanwhile `isRestarting` tells the engine to leave its files alone. What the program
/// writes on standard error goes to the daemon log, at most one line a second.
final class ExternalProgram {
    enum Failure: Error, CustomStringConvertible {
        case exited(String)
        case timedOut(Double)
        case cannotStart(String)
        case restarting
        case answerTooLong

        var description: String {
            switch self {
            case .exited(let how): "the program \(how) before answering"
            case .timedOut(let seconds): "the program gave no answer within \(Int(seconds)) s"
            case .cannotStart(let why): "the program cannot be started: \(why)"
            case .restarting: "the program is waiting to be restarted"
            case .answerTooLong: "the program's answer was longer than 1 MiB"
            }
        }

        /// The line was given to a running program, which failed on it (rather than the program
        /// not running at all).
        var reachedTheProgram: Bool {
            switch self {
            case .exited, .timedOut, .answerTooLong: true
            case .cannotStart, .restarting: false
            }
        }
    }

    private let path: String
    private let timeout: Double
    private let logger: Logger
    private var child: ChildProcess.Spawned?
    private var pending: [UInt8] = []
    private var errorText: [UInt8] = []
    /// Standard error reached its end (polling it further would spin).
    private var errorsOpen = true
    private var lastErrorLog = Deadline.distantPast
    private var consecutiveFailures = 0
    private var restartAt = Deadline.distantPast
    /// Read buffer, allocated once: `readInto` runs before and while every line is answered.
    private let chunk = UnsafeMutableRawPointer.allocate(byteCount: chunkSize, alignment: 16)
    private static let chunkSize = 65536
    /// Whether the program answered a line since it was last started (kept after it fails): a
    /// program that dies before its first answer is broken, or was killed by that very line.
    private(set) var answeredSinceStart = false
    private static let maxAnswer = 1 << 20

    init(path: String, timeout: Double, logger: Logger) {
        self.path = path
        self.timeout = timeout
        self.logger = logger
        // A program that exits while we write to it must not take the daemon with it.
        signal(SIGPIPE, SIG_IGN)
    }

    deinit {
        stop()
        chunk.deallocate()
    }

    /// True while a failed program waits out its backoff.
    var isRestarting: Bool { child == nil && !restartAt.hasPassed }

    /// Running, and it has answered since it was started.
    var isProven: Bool { child != nil && answeredSinceStart }

    /// Sends `line` and returns the program's answer (without its newline).
    func ask(_ line: ByteLine) -> Result<[UInt8], Failure> {
        if child == nil {
            if !restartAt.hasPassed { return .failure(.restarting) }
            if let failure = start() { return .failure(failure) }
        }
        guard var child, var input = child.input else { return .failure(.restarting) }
        // Before the line is sent: a program that exited while idle is restarted (with its
        // backoff); output waiting means it answered some line twice, and its answers would be
        // taken for the next lines': it is started again to get back in step.
        let open = readInto(&pending, from: child.output)
        if !open || !pending.isEmpty {
            if open {
                logger.warning("\(path) wrote output nobody asked for (more than one answer to a line?); restarting it to get back in step")
                _ = reap(failure: "was out of step")
                forgiveFailures()
            } else {
                _ = reap(failure: "exited")
                if !restartAt.hasPassed { return .failure(.restarting) }
            }
            if let failure = start() { return .failure(failure) }
            guard let fresh = self.child, let freshInput = fresh.input else { return .failure(.restarting) }
            child = fresh
            input = freshInput
        }
        let deadline = Deadline.after(seconds: timeout)
        var message = [UInt8](UnsafeBufferPointer(start: line.base, count: line.count))
        message.append(0x0A)
        var written = 0
        while true {
            if let end = pending.firstIndex(of: 0x0A), written == message.count {
                let answer = Array(pending[..<end])
                pending.removeSubrange(...end)
                consecutiveFailures = 0
                answeredSinceStart = true
                return .success(answer)
            }
            if pending.count > Self.maxAnswer {
                _ = reap(failure: Failure.answerTooLong.description)
                return .failure(.answerTooLong)
            }
            let left = deadline.secondsLeft
            if left <= 0 {
                _ = reap(failure: Failure.timedOut(timeout).description)
                return .failure(.timedOut(timeout))
            }
            var fds = [pollfd(fd: child.output, events: Int16(POLLIN), revents: 0)]
            if let errors = child.errors, errorsOpen { fds.append(pollfd(fd: errors, events: Int16(POLLIN), revents: 0)) }
            if written < message.count { fds.append(pollfd(fd: input, events: Int16(POLLOUT), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(left, 1) * 1000) + 1)
            if ready < 0 && errno != EINTR { break }
            for fd in fds where fd.revents != 0 {
                if fd.fd == input {
                    let n = message.withUnsafeBytes { write(input, $0.baseAddress! + written, message.count - written) }
                    if n > 0 { written += n } else if n < 0 && errno != EAGAIN && errno != EINTR {
                        return .failure(reap(failure: "closed its input"))
                    }
                } else if fd.fd == child.output {
                    if !readInto(&pending, from: fd.fd) {
                        // End of its output: it exited (or closed stdout, which is the same to us).
                        if pending.firstIndex(of: 0x0A) != nil, written == message.count { continue }
                        return .failure(reap(failure: "exited"))
                    }
                } else if !readInto(&errorText, from: fd.fd) {
                    errorsOpen = false
                }
            }
            logErrors()
        }
        return .failure(reap(failure: "could not be polled"))
    }

    /// Clears the restart backoff: the failures were caused by a line (which the driver rejects),
    /// not by the program, so the next line may start it at once.
    func forgiveFailures() {
        consecutiveFailures = 0
        restartAt = .distantPast
    }

    /// Stops the program (end of the driver, or a reload).
    func stop() {
        guard let child else { return }
        if let input = child.input { close(input) }
        // Give it a moment to finish on end of input, then stop its group (helpers it started
        // included).
        var status: Int32 = 0
        let until = Deadline.after(seconds: 1)
        while waitpid(child.pid, &status, WNOHANG) == 0 && !until.hasPassed { usleep(10_000) }
        kill(-child.pid, SIGKILL)
        while waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
        close(child.output)
        if let errors = child.errors { close(errors) }
        self.child = nil
        pending = []
    }

    // MARK: Private

    private func start() -> Failure? {
        answeredSinceStart = false
        do {
            let spawned = try ChildProcess.spawn(executable: path, arguments: [], environment: [:], input: .pipe, separateErrors: true)
            for fd in [spawned.input, spawned.output, spawned.errors].compactMap({ $0 }) {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            }
            child = spawned
            errorsOpen = true
            answeredSinceStart = false
            pending = []
            logger.info("started \(path) (pid \(spawned.pid))")
            return nil
        } catch {
            scheduleRestart()
            logger.error("cannot start \(path): \(error.description); next try in \(Int(restartAt.secondsLeft.rounded(.up))) s")
            return .cannotStart(error.description)
        }
    }

    /// Collects the exited (or killed) program and schedules its restart.
    private func reap(failure: String) -> Failure {
        guard let child else { return .restarting }
        kill(-child.pid, SIGKILL)
        var status: Int32 = 0
        waitpid(child.pid, &status, 0)
        if let errors = child.errors { _ = readInto(&errorText, from: errors) }
        logErrors(force: true)
        if let input = child.input { close(input) }
        close(child.output)
        if let errors = child.errors { close(errors) }
        self.child = nil
        pending = []
        scheduleRestart()
        let how = Self.describe(status: status)
        let next = restartAt.secondsLeft > 0 ? "restarting in \(Int(restartAt.secondsLeft.rounded(.up))) s" : "restarting now"
        logger.warning("\(path) \(failure == "exited" ? how : failure) (pid \(child.pid)); \(next)")
        return failure == "exited" ? .exited(how) : .exited(failure)
    }

    private func scheduleRestart() {
        consecutiveFailures += 1
        let delay = consecutiveFailures == 1 ? 0 : min(60, pow(2, Double(consecutiveFailures - 2)))
        restartAt = .after(seconds: delay)
    }

    private static func describe(status: Int32) -> String {
        let signal = status & 0x7F
        if signal == 0 { return "exited with status \((status >> 8) & 0xFF)" }
        return "was killed by signal \(signal)"
    }

    /// Appends what can be read now; false at end of file.
    private func readInto(_ buffer: inout [UInt8], from fd: Int32) -> Bool {
        while true {
            let n = read(fd, chunk, Self.chunkSize)
            if n > 0 {
                buffer.append(contentsOf: UnsafeRawBufferPointer(start: chunk, count: n))
                if buffer.count > Self.maxAnswer * 2 { return true }
                continue
            }
            if n == 0 { return false }
            return errno == EAGAIN || errno == EINTR
        }
    }

    private func logErrors(force: Bool = false) {
        guard !errorText.isEmpty, force || lastErrorLog.secondsAgo >= 1 else {
            if errorText.count > 65536 { errorText.removeFirst(errorText.count - 65536) }
            return
        }
        lastErrorLog = .now
        let lines = errorText.split(separator: 0x0A)
        errorText = []
        for line in lines.prefix(5) {
            logger.warning("\((path as NSString).lastPathComponent) says: \(String(decoding: line.prefix(300), as: UTF8.self))")
        }
        if lines.count > 5 { logger.warning("\((path as NSString).lastPathComponent) wrote \(lines.count - 5) more line(s) on standard error") }
    }
}
