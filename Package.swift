// swift-tools-version: 6.1
import PackageDescription

/// TailWatch: a small engine that tails logs exactly once into SQLite, the stock drivers that
/// turn those logs into accounting data, and two thin executables (the daemon and the report CLI).
let package = Package(
    name: "TailWatch",
        products: [
        .executable(name: "tailwatchd", targets: ["tailwatchd"]),
        .executable(name: "tailwatch-report", targets: ["tailwatch-report"]),
        .library(name: "TailWatchEngine", targets: ["TailWatchEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // Turns Migrations/<Target>/NNNN_name.sql into Swift at build time, so the .sql files stay
        // the schema's single source and the binaries still need no files beside them.
        .executableTarget(name: "EmbedMigrationsTool", path: "Sources/EmbedMigrationsTool"),
        .plugin(
            name: "EmbedMigrations",
            capability: .buildTool(),
            dependencies: ["EmbedMigrationsTool"]
        ),

        .target(
            name: "TailWatchEngine",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            plugins: ["EmbedMigrations"]
        ),
        .target(
            name: "EximStats",
            dependencies: [
                "TailWatchEngine",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            plugins: ["EmbedMigrations"]
        ),
        .target(
            name: "CpBandwd",
            dependencies: [
                "TailWatchEngine",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            plugins: ["EmbedMigrations"]
        ),
        .target(
            name: "Antirelayd",
            dependencies: [
                "TailWatchEngine",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            plugins: ["EmbedMigrations"]
        ),
        .target(
            name: "Chkservd",
            dependencies: [
                "TailWatchEngine",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            plugins: ["EmbedMigrations"]
        ),
        .target(
            name: "CustomDrivers",
            dependencies: [
                "TailWatchEngine",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            plugins: ["EmbedMigrations"]
        ),
        // The fleet's PostgreSQL store: libpq bound at run time, the schema (Migrations/FleetStore/,
        // PostgreSQL's SQL), the idempotent upserts and the fleet reports' connection.
        .target(
            name: "FleetStore",
            dependencies: ["TailWatchEngine"],
            plugins: ["EmbedMigrations"]
        ),
        // Ships committed rollups from the SQLite outbox (Migrations/FleetShipper/) to FleetStore.
        .target(
            name: "FleetShipper",
            dependencies: [
                "FleetStore",
                "TailWatchEngine",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            plugins: ["EmbedMigrations"]
        ),
        // The composition root: which drivers exist, the configuration read as a whole, the way a
        // reader opens the database, and the failures both executables report. The daemon, the
        // report CLI (and the web pages and fleet shipper) depend on it, never on each other.
        .target(
            name: "TailWatchComposition",
            dependencies: [
                "TailWatchEngine",
                "EximStats",
                "CpBandwd",
                "Antirelayd",
                "Chkservd",
                "CustomDrivers",
                "FleetStore",
                "FleetShipper",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The daemon's web pages, JSON API and metrics: reports rendered for a person, on a small
        // HTTP server of its own.
        .target(
            name: "TailWatchWeb",
            dependencies: [
                "TailWatchComposition",
                "TailWatchEngine",
                "CpBandwd",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "TailWatchDaemon",
            dependencies: [
                "TailWatchComposition",
                "TailWatchWeb",
                "FleetShipper",
                "TailWatchEngine",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "TailWatchReport",
            dependencies: [
                "TailWatchComposition",
                "TailWatchEngine",
                "EximStats",
                "CpBandwd",
                "Antirelayd",
                "Chkservd",
                "CustomDrivers",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .executableTarget(name: "tailwatchd", dependencies: ["TailWatchDaemon"]),
        .executableTarget(name: "tailwatch-report", dependencies: ["TailWatchReport"]),

        .target(
            name: "TestSupport",
            dependencies: ["TailWatchEngine", "FleetStore", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "TailWatchEngineTests", dependencies: ["TailWatchEngine", "TestSupport"]),
        .testTarget(name: "EximStatsTests", dependencies: ["EximStats", "TailWatchEngine", "TestSupport"]),
        .testTarget(name: "CpBandwdTests", dependencies: ["CpBandwd", "TailWatchEngine", "TestSupport"]),
        .testTarget(name: "AntirelaydTests", dependencies: ["Antirelayd", "TailWatchEngine", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "ChkservdTests", dependencies: ["Chkservd", "TailWatchEngine", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "CustomDriversTests", dependencies: ["CustomDrivers", "TailWatchEngine", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(
            name: "TailWatchDaemonTests",
            dependencies: ["TailWatchComposition", "TailWatchDaemon", "TailWatchReport", "TailWatchWeb", "FleetStore", "FleetShipper", "CustomDrivers", "EximStats", "TailWatchEngine", "TestSupport", "tailwatchd", "tailwatch-report"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
