import Foundation
import TailWatchComposition
import TailWatchEngine

/// Carries out the action a `DaemonCommand` names and returns the exit code.
struct DaemonActions {
    let command: DaemonCommand

    var configPath: String { ConfigFile.resolvePath(explicit: command.config) }

    func run() async -> Int32 {
        do {
            let editsConfig = !command.enable.isEmpty || !command.disable.isEmpty
            if command.action == nil && !editsConfig { throw CommandFailure.usage("no action given; try --help") }
            if editsConfig { try applyEnableDisable() }
            switch command.action {
            case nil:
                return 0
            case .start:
                return try start()
            case .stop:
                return try stop()
            case .restart:
                _ = try stop()
                return try start()
            case .status(let detail):
                return try StatusReport(configPath: configPath).print(long: detail == .long)
            case .version(let detail):
                return printVersion(long: detail == .long)
            case .driverDocs:
                print(DriverGuide.text)
                return 0
            case .foreground, .once:
                return try await Foreground(command: command, configPath: configPath).run()
            }
        } catch let error as ConfigError {
            return fail(error.description, code: 2)
        } catch let error as CommandFailure {
            return fail(error.description, code: error.exitCode)
        } catch {
            return fail("\(error)", code: 1)
        }
    }

    private func fail(_ message: String, code: Int32) -> Int32 {
        FileHandle.standardError.write(Data("tailwatchd: \(message)\n".utf8))
        return code
    }

    func loadConfiguration() throws(ConfigError) -> LoadedConfiguration {
        try LoadedConfiguration.load(path: configPath)
    }

    // MARK: --enable / --disable

    private func applyEnableDisable() throws {
        let loaded = try loadConfiguration()
        let known = loaded.knownDriverNames
        for name in command.enable + command.disable where !known.contains(name) {
            throw CommandFailure.usage("unknown driver '\(name)' (known: \(known.sorted().joined(separator: ", ")))")
        }
        var changes: [String: Bool] = [:]
        for name in command.disable { changes[name] = false }
        for name in command.enable { changes[name] = true }
        try ConfigEditor.setEnabled(changes, in: loaded.file.path)
        _ = try loadConfiguration()
        for (name, on) in changes.sorted(by: { $0.key < $1.key }) {
            print("\(name): \(on ? "enabled" : "disabled") in \(loaded.file.path)")
        }
        if case .running(let pid) = PidFile.holder(of: loaded.settings.pidFile), pid > 0 {
            kill(pid, SIGHUP)
            print("asked the running tailwatchd (pid \(pid)) to reload")
        }
    }

    // MARK: --start / --stop

    private func start() throws -> Int32 {
        let loaded = try loadConfiguration()
        if case .running(let pid) = PidFile.holder(of: loaded.settings.pidFile) {
            throw CommandFailure.runtime("tailwatchd is already running (pid \(pid)); use --restart to replace it")
        }
        var arguments = ["--foreground", "--config", loaded.file.path]
        if let trace = command.trace { arguments.append("--trace=\(trace)") }
        if command.debug { arguments.append("--debug") }
        let child = try spawnDetached(arguments: arguments)
        let deadline = Deadline.after(seconds: 15)
        while !deadline.hasPassed {
            if case .running(let pid) = PidFile.holder(of: loaded.settings.pidFile), pid == child {
                print("tailwatchd started (pid \(child))")
                return 0
            }
            var status: Int32 = 0
            if waitpid(child, &status, WNOHANG) == child {
                throw CommandFailure.runtime("tailwatchd exited while starting (status \(status >> 8)); see \(loaded.settings.logFile)")
            }
            usleep(50_000)
        }
        throw CommandFailure.runtime("tailwatchd (pid \(child)) did not take its pid file \(loaded.settings.pidFile) within 15 s; see \(loaded.settings.logFile)")
    }

    /// Starts this executable again in a new session with `/dev/null` as its standard streams.
    private func spawnDetached(arguments: [String]) throws -> pid_t {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(0x80)) // POSIX_SPAWN_SETSID
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd in Int32(0)...2 {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        // Descriptors this process inherited (a caller's pipes) must not live on in the daemon,
        // or the caller would wait for their end of file forever.
        if let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            for fd in fds.compactMap(Int32.init) where fd > 2 {
                _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC)
            }
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard code == 0 else {
            throw CommandFailure.runtime("cannot start \(executable): \(String(cString: strerror(code)))")
        }
        return pid
    }

    private func stop() throws -> Int32 {
        let loaded = try loadConfiguration()
        guard case .running(let pid) = PidFile.holder(of: loaded.settings.pidFile), pid > 0 else {
            print("tailwatchd is not running")
            return 0
        }
        guard kill(pid, SIGTERM) == 0 else {
            throw CommandFailure.runtime("cannot signal tailwatchd (pid \(pid)): \(String(cString: strerror(errno)))")
        }
        if waitForRelease(loaded.settings.pidFile, seconds: 30) {
            print("tailwatchd stopped (pid \(pid))")
            return 0
        }
        kill(pid, SIGKILL)
        guard waitForRelease(loaded.settings.pidFile, seconds: 5) else {
            throw CommandFailure.runtime("tailwatchd (pid \(pid)) is still running after SIGKILL")
        }
        print("tailwatchd (pid \(pid)) did not stop within 30 s and was killed; uncommitted lines will be read again at start")
        return 0
    }

    private func waitForRelease(_ pidFile: String, seconds: Double) -> Bool {
        let deadline = Deadline.after(seconds: seconds)
        while !deadline.hasPassed {
            if PidFile.holder(of: pidFile) == .none { return true }
            usleep(50_000)
        }
        return false
    }

    // MARK: --version

    private func printVersion(long: Bool) -> Int32 {
        print("tailwatchd \(TailWatchDaemonMain.version)")
        if long {
            // Custom drivers come from the configuration's drivers_dir; without a readable
            // configuration only the stock drivers are listed.
            let loaded = try? loadConfiguration()
            for driver in loaded?.descriptors ?? DriverRegistry.stock {
                print("  \(driver.name) \(driver.version): \(driver.summary)")
            }
            for refused in loaded?.refusedCustomDrivers ?? [] {
                print("  refused: \(refused)")
            }
        }
        return 0
    }
}
