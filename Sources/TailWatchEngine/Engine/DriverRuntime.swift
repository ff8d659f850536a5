import Logging

/// Counters for one driver since the last commit; added to `driver_stats` in the commit.
struct DriverCounters {
    var linesRead = 0
    var events = 0
    var ignored = 0
    var rejected = 0
    var rejectedByReason: [RejectReason: (count: Int, path: String, offset: Int64)] = [:]

    var isZero: Bool { linesRead == 0 && events == 0 && ignored == 0 && rejected == 0 }
}

/// A driver while the engine runs it: the instance, its logger and its uncommitted counters.
final class DriverRuntime {
    let name: String
    let driver: any LogDriver
    let configured: ConfiguredDriver
    let logger: Logger
    var pending = DriverCounters()
    /// Totals since start, for the engine's summary line and tests.
    var total = DriverCounters()

    init(name: String, driver: any LogDriver, configured: ConfiguredDriver, logger: Logger) {
        self.name = name
        self.driver = driver
        self.configured = configured
        self.logger = logger
    }
}
