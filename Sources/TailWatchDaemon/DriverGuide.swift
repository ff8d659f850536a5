/// The text of `tailwatchd --driver-docs`: how to write a driver (the Swift counterpart of cPanel's
/// `--perldoc`). Kept beside the registry it refers to.
enum DriverGuide {
    static let text = """
        TailWatch drivers
        =================

        A driver turns the lines of some log into rows in TailWatch's SQLite database. The engine
        does the tailing (rotation, truncation, partial lines, crash recovery) and the transactions;
        a driver only parses and writes.

        1. A module of its own: Sources/MyDriver/, depending on TailWatchEngine only (never on another
           driver). Its tables: Migrations/MyDriver/0001_name.sql, 0002_…; add the EmbedMigrations
           plugin to the target in Package.swift and the files are compiled in.

        2. A descriptor, registered in Sources/TailWatchDaemon/DriverRegistry.swift:

             public static let descriptor = DriverDescriptor(
                 name: "mydriver", version: "1.0.0", summary: "what it accounts",
                 migrations: MigrationSet(module: "MyDriver", files: embeddedMigrationFiles)
             ) { section, engine throws(ConfigError) in
                 try section.requireOnly(["enabled", "log"])      // unknown keys are errors
                 let log = try section.path("log") ?? "/var/log/mylog"
                 let enabled = try section.bool("enabled") ?? section.isPresent
                 return ConfiguredDriver(enabled: enabled, sources: [.file(log)]) { context in
                     try MyDriver(context: context)
                 }
             }

           `sources` are files (.file(path)) or folders with a pattern (.folder(dir, pattern: "*_log")),
           re-scanned for new files.

        3. A class conforming to LogDriver:

             final class MyDriver: LogDriver {
                 private var insert: PreparedStatement?
                 func open(_ db: Database) throws {
                     insert = try PreparedStatement(db, sql: "INSERT INTO my_rows (time, what) VALUES (?, ?)")
                 }
                 func ingest(_ line: ByteLine, from source: SourceFile) throws -> LineOutcome {
                     guard let space = line.firstIndex(of: 0x20) else { return .rejected(.init("no space")) }
                     insert!.bind(1, Int64(0))
                     insert!.bind(2, line.slice((space + 1)..<line.count))
                     try insert!.run()
                     return .stored(events: 1)
                 }
             }

           Rules the engine relies on:
           - ingest() runs inside the batch's open transaction; write with PreparedStatement (bound
             straight from the line's bytes) or aggregate in memory and write in flush(_:), which runs
             inside the same transaction as the files' new positions. That is the exactly-once
             guarantee: a line's effect and its position commit together or not at all.
           - A ByteLine borrows the read buffer: copy what you keep past the call.
           - Bad input is never an error: return .rejected(reason) (counted per reason, warned about
             at most once a minute) or .ignored for lines you recognise and do not need. Throw only
             for database failures; the engine then rolls back, calls rollback(), and reads the same
             lines again later.
           - tick(_:now:) runs about once a second in a transaction of its own (retention, rollups).
           - A timer driver (chkservd) has no sources and does its work from tick(); long work
             (network checks, commands) belongs on threads of its own, its results written by a later
             tick, so the log drivers never wait. context.once says --once (do the work once);
             context.health is the engine's view of every driver (bytes behind, last commit).
           - Side effects outside the database (files other programs read, notifications) belong
             in afterCommit(), which follows only committed state; AtomicFile replaces such files
             whole, BoundedCommand runs an operator's command with a timeout.
           - Log through the Logger in DriverContext; with --debug, log one "[debug] …" line per event
             when context.debug is true.

        4. Tests: Tests/MyDriverTests/, with Swift Testing, on real files in a temporary folder
           (TestSupport has helpers). Run `swift test`.

        The daemon then lists the driver in --version=long and --status=long, reads its [mydriver]
        table, and --enable=mydriver / --disable=mydriver switch it.
        """
}
