import Antirelayd
import Chkservd
import CpBandwd
import CustomDrivers
import EximStats
import TailWatchEngine

/// The one place that knows which drivers exist. The engine never names a driver; adding one is
/// adding its descriptor here.
public enum DriverRegistry {
    public static let stock: [DriverDescriptor] = [
        EximStatsDriver.descriptor,
        CpBandwdDriver.descriptor,
        AntirelaydDriver.descriptor,
        ChkservdRounds.descriptor,
    ]

    /// Schemas of the engine and of every registered driver, enabled or not, so that reports on a
    /// disabled driver's tables still work. Custom drivers' own tables are migrated by each driver
    /// from its definition (module `custom.NAME`); their bookkeeping table is here.
    public static var migrationSets: [MigrationSet] {
        [engineMigrations] + stock.map(\.migrations) + [customDriverMigrations]
    }
}
