import Foundation
import GRDB
import EximStats
import TailWatchEngine
import TestSupport

/// Runs the eximstats driver through the real engine over a real mainlog in a temporary folder.
final class EximStatsHarness {
    private let driverHarness: DriverHarness
    var driverSettings = EximStatsSettings()
    var maximumNames = 200_000
    var purgeSlice = 20_000
    let log: String
    /// The driver's wall clock (which hour the sending limits enforce); the real one when nil.
    var clock: Date? {
        get { clockBox.date }
        set { clockBox.date = newValue }
    }
    let clockBox = ClockBox()
    var folder: TemporaryFolder { driverHarness.folder }

    var settings: EngineSettings {
        get { driverHarness.settings }
        set { driverHarness.settings = newValue }
    }

    init(userdomains: String = "bobsbikes.example: bob\ncarolcakes.example: carol\n", timezone: String = "UTC") throws {
        driverHarness = try DriverHarness(label: "eximstats", modules: [EximStatsDriver.descriptor.migrations], userdomains: userdomains)
        driverHarness.settings.timezone = TimeZone(identifier: timezone)!
        log = driverHarness.folder.file("exim_mainlog")
        driverSettings.log = log
        driverSettings.retentionDays = 0
        // Never the machine's own /etc/email_send_limits or /var/cpanel folder.
        driverSettings.sendLimits = nil
        driverSettings.limitsDirectory = driverHarness.folder.file("send-limit-markers")
    }

    func database() throws -> DatabaseQueue { try driverHarness.database() }

    /// The database as a release with the driver's migrations up to `version` left it (for upgrade tests).
    func openOlderDatabase(upTo version: Int) throws -> DatabaseQueue {
        try Store.openWriter(path: settings.database, modules: [engineMigrations, EximStatsDriver.descriptor.migrations.upTo(version)])
    }

    /// The driver as this harness's settings, clock and limits make it; `made` sees each instance.
    private func configured(_ made: @escaping @Sendable (EximStatsDriver) -> Void = { _ in }) -> ConfiguredDriver {
        let s = driverSettings, names = maximumNames, slice = purgeSlice, clock = clockBox
        return ConfiguredDriver(enabled: true, sources: [.file(log)]) { context, db in
            let driver = try EximStatsDriver(settings: s, context: context, db: db, clock: { clock.date ?? Date() })
            driver.maximumNames = names
            driver.purgeSlice = slice
            made(driver)
            return driver
        }
    }

    /// A fresh engine catching up once, as `tailwatchd --once` does. Returns the driver it ran.
    @discardableResult
    func runOnce() throws -> EximStatsDriver {
        let box = DriverBox()
        try driverHarness.runOnce("eximstats", configured { box.driver = $0 })
        return box.driver!
    }

    /// The engine in daemon mode, following the log, with the same clock box.
    func startDaemon() -> RunningEngine {
        driverHarness.startDaemon("eximstats", configured())
    }

    func append(_ text: String) throws { try LogWriter.append(log, text) }

    func mail(by: MailReport.Grouping = .total, user: String? = nil, domain: String? = nil, since: Int64? = nil, until: Int64? = nil) throws -> [MailReport.Row] {
        try database().read { db in try MailReport.rows(db, user: user, domain: domain, by: by, since: since, until: until) }
    }

    func count(_ sql: String) throws -> Int { try driverHarness.count(sql) }
}

/// A clock a test moves while a daemon runs.
final class ClockBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Date?
    var date: Date? {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}

final class DriverBox: @unchecked Sendable {
    var driver: EximStatsDriver?
}
