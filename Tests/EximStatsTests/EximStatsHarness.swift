import Foundation
import GRDB
import EximStats
import TailWatchEngine
import TestSupport

/// Runs the eximstats driver through the real engine over a real mainlog in a temporary folder.
final class EximStatsHarness {
    let folder = TemporaryFolder("eximstats")
    var settings: EngineSettings
    var driverSettings = EximStatsSettings()
    var maximumNames = 200_000
    let log: String

    init(userdomains: String = "bobsbikes.example: bob\ncarolcakes.example: carol\n", timezone: String = "UTC") throws {
        log = folder.file("exim_mainlog")
        settings = EngineSettings(
            database: folder.file("tailwatch.sqlite3"), logFile: folder.file("d.log"), pidFile: folder.file("pid"),
            userdomains: try folder.write("userdomains", userdomains), timezone: TimeZone(identifier: timezone)!)
        driverSettings.log = log
        driverSettings.retentionDays = 0
    }

    func database() throws -> DatabaseQueue {
        try Store.openWriter(path: settings.database, modules: [engineMigrations, EximStatsDriver.descriptor.migrations])
    }

    /// A fresh engine catching up once, as `tailwatchd --once` does. Returns the driver it ran.
    @discardableResult
    func runOnce() throws -> EximStatsDriver {
        let box = DriverBox()
        let s = driverSettings
        let limit = maximumNames
        let configured = ConfiguredDriver(enabled: true, sources: [.file(log)]) { context in
            let driver = try EximStatsDriver(settings: s, context: context)
            driver.maximumNames = limit
            box.driver = driver
            return driver
        }
        let engine = try Engine(
            settings: settings, database: database(), drivers: [(name: "eximstats", configured: configured)],
            options: EngineOptions(once: true), control: EngineControl(), logger: Logger(label: "test")
        ) { Logger(label: $0) }
        _ = try engine.run()
        return box.driver!
    }

    func append(_ text: String) throws { try LogWriter.append(log, text) }

    func mail(by: MailReport.Grouping = .total, user: String? = nil, domain: String? = nil, since: Int64? = nil, until: Int64? = nil) throws -> [MailReport.Row] {
        try database().read { db in try MailReport.rows(db, user: user, domain: domain, by: by, since: since, until: until) }
    }

    func count(_ sql: String) throws -> Int {
        try database().read { db in try Int.fetchOne(db, sql: sql) ?? -1 }
    }
}

final class DriverBox: @unchecked Sendable {
    var driver: EximStatsDriver?
}

import Logging
