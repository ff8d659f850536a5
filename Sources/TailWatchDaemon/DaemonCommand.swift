import ArgumentParser

/// `tailwatchd`'s command line, as in the contract (INTERFACE.md) and cPanel's own flags.
///
/// cPanel writes `--status`, `--version` and `--trace` both bare and with `=value`; ArgumentParser
/// options need a value, so `TailWatchDaemonMain.normalize` rewrites the bare forms first.
struct DaemonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tailwatchd",
        abstract: "Driver based real time log processing: tails exim, web, mail and FTP logs into SQLite, exactly once.",
        discussion: """
            Exactly one action: --start, --stop, --restart, --status[=long], --version[=long], \
            --foreground, --once or --driver-docs (--enable/--disable may stand alone).
            Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.
            """)

    enum Detail: String, ExpressibleByArgument, CaseIterable {
        case short, long
    }

    @Option(help: ArgumentHelp("Configuration file (default: $TAILWATCH_CONFIG, else /etc/tailwatch/tailwatch.toml).", valueName: "path"))
    var config: String?

    @Flag(help: "Start the daemon in the background; refuses if one is already running.")
    var start = false

    @Flag(help: "Stop the running daemon: SIGTERM, up to 30 s for its final commit, then SIGKILL.")
    var stop = false

    @Flag(help: "Stop the daemon if it runs, then start it.")
    var restart = false

    @Option(help: ArgumentHelp("Whether the daemon runs and its pid; =long adds per-driver figures.", valueName: "long"))
    var status: Detail?

    @Option(help: ArgumentHelp("Print the version; =long adds each driver's version.", valueName: "long"))
    var version: Detail?

    @Flag(help: "Run attached to the terminal (systemd Type=simple, containers, tests).")
    var foreground = false

    @Flag(help: "Catch every enabled driver up to the end of its logs, commit, and exit.")
    var once = false

    @Flag(name: .customLong("driver-docs"), help: "Print the guide to writing a driver.")
    var driverDocs = false

    @Option(help: ArgumentHelp("Log the first N lines the drivers process (bare --trace: 10000). Start only.", valueName: "n"))
    var trace: Int?

    @Flag(help: "Drivers log a debug line for each event they write. Start only.")
    var debug = false

    @Option(name: .customLong("enable"), help: ArgumentHelp("Enable a driver in the config file (repeatable; enable wins).", valueName: "driver"))
    var enable: [String] = []

    @Option(name: .customLong("disable"), help: ArgumentHelp("Disable a driver in the config file (repeatable).", valueName: "driver"))
    var disable: [String] = []

    /// What the daemon binary is asked to do: exactly one of these, or none when only
    /// `--enable`/`--disable` are given.
    enum Action: Equatable {
        case start, stop, restart, status(Detail), version(Detail), foreground, once, driverDocs
    }

    /// Every action the flags name, in the order of `--help`.
    var actions: [Action] {
        var all: [Action] = []
        if start { all.append(.start) }
        if stop { all.append(.stop) }
        if restart { all.append(.restart) }
        if let status { all.append(.status(status)) }
        if let version { all.append(.version(version)) }
        if foreground { all.append(.foreground) }
        if once { all.append(.once) }
        if driverDocs { all.append(.driverDocs) }
        return all
    }

    /// The one action (`validate` refuses more than one).
    var action: Action? { actions.first }

    func validate() throws {
        if actions.count > 1 {
            throw ValidationError("give only one of --start, --stop, --restart, --status, --version, --foreground, --once, --driver-docs")
        }
        if let trace, trace < 1 {
            throw ValidationError("--trace needs a positive number of lines, not \(trace)")
        }
        // Driver names are checked against the configuration (custom drivers live in its drivers_dir).
    }
}
