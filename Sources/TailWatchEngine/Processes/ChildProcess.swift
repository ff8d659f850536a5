import Glibc
import Foundation

/// Starts a child process the way every program TailWatch runs is started: in a process group of
/// its own (so it can be stopped with its children), default signal handling, none of the daemon's
/// descriptors but the ones it is given, and without systemd's hand-over variables.
public enum ChildProcess {
    public struct Spawned: Sendable {
        public let pid: pid_t
        /// Our end of the child's standard input (`.pipe` only).
        public let input: Int32?
        /// Our end of the child's standard output (and standard error unless `separateErrors`).
        public let output: Int32
        /// Our end of the child's standard error (`separateErrors` only).
        public let errors: Int32?
    }

    public enum Input: Sendable {
        case devNull
        case pipe
    }

    /// One spawn at a time: a pipe made by one thread must be close-on-exec before another
    /// thread's child could inherit it (`pipe2` is not exported to Swift).
    private static let spawnLock = NSLock()

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), looked up at run time because the
    /// Swift module does not export GNU extensions; without it, descriptors opened with
    /// `O_CLOEXEC` (SQLite's, our pipes) are still not inherited.
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addCloseFrom: CloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: CloseFrom.self)
    }()

    public static func spawn(
        executable: String, arguments: [String], environment: [String: String], input: Input, separateErrors: Bool
    ) throws(BoundedCommand.LaunchFailure) -> Spawned {
        spawnLock.lock()
        defer { spawnLock.unlock() }
        var opened: [Int32] = []
        func makePipe() throws(BoundedCommand.LaunchFailure) -> (read: Int32, write: Int32) {
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else {
                opened.forEach { close($0) }
                throw BoundedCommand.LaunchFailure(description: "cannot create a pipe: \(String(cString: strerror(errno)))")
            }
            for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            opened += ends
            return (ends[0], ends[1])
        }
        let inPipe = input == .pipe ? try makePipe() : nil
        let outPipe = try makePipe()
        let errPipe = separateErrors ? try makePipe() : nil

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let inPipe {
            posix_spawn_file_actions_adddup2(&actions, inPipe.read, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, outPipe.write, 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe?.write ?? outPipe.write, 2)
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, 3) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGHUP, SIGINT, SIGTERM, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        var env = ProcessInfo.processInfo.environment
        // systemd's hand-over variables belong to the daemon, not to a program it runs.
        for key in ["NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "INVOCATION_ID", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            env[key] = nil
        }
        for (k, v) in environment { env[k] = v }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        // The child's ends are the child's now.
        for end in [inPipe?.read, outPipe.write, errPipe?.write].compactMap({ $0 }) { close(end) }
        guard code == 0 else {
            for end in [inPipe?.write, outPipe.read, errPipe?.read].compactMap({ $0 }) { close(end) }
            throw BoundedCommand.LaunchFailure(description: "cannot run \(executable): \(String(cString: strerror(code)))")
        }
        return Spawned(pid: pid, input: inPipe?.write, output: outPipe.read, errors: errPipe?.read)
    }
}
