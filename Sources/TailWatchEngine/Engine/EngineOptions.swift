/// How one run of the engine behaves, from the daemon's command line.
public struct EngineOptions: Sendable {
    /// Catch up to the end of every log, run each driver's tick once, commit and return.
    public var once: Bool
    /// Log the first N lines processed (`--trace[=N]`); 0 is off.
    public var traceLines: Int
    /// Drivers log a debug line per event (`--debug`).
    public var debug: Bool
    /// Print catch-up progress on standard error (for `--once` on a terminal).
    public var showProgress: Bool
    /// Log files held open at once before idle ones are closed; nil: what the process's open files
    /// limit leaves (the soft limit raised to the hard one, less a reserve for everything else).
    /// Tests set it low to exercise closing.
    public var maxOpenFiles: Int?
    /// How long a renamed log that a writer keeps appending to is followed before the new file at
    /// its path is (the writer should have reopened its log by then).
    public var rotationHold: Duration = .seconds(30)

    public init(once: Bool = false, traceLines: Int = 0, debug: Bool = false, showProgress: Bool = false, maxOpenFiles: Int? = nil) {
        self.once = once
        self.maxOpenFiles = maxOpenFiles
        self.traceLines = traceLines
        self.debug = debug
        self.showProgress = showProgress
    }
}

/// Why `Engine.run()` returned.
public enum EngineExit: Sendable, Equatable {
    /// `--once` caught up, or a stop was requested; everything read is committed.
    case finished
    /// SIGHUP: everything read is committed; re-read the configuration and run again.
    case reloadRequested
}

/// What one driver did in this run, for the summary line and tests.
public struct DriverSummary: Sendable, Equatable {
    public let driver: String
    public let linesRead: Int
    public let events: Int
    public let ignored: Int
    public let rejected: Int
    /// Why the driver did not start (it then read nothing); nil when it ran.
    public var failure: String? = nil
}
