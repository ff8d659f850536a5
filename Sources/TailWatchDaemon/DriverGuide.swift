/// The text of `tailwatchd --driver-docs`: how to write a driver (the Swift counterpart of cPanel's
/// `--perldoc`). Kept beside the registry it refers to.
enum DriverGuide {
    static let text = #"""
        TailWatch drivers
        =================

        A driver turns the lines of some log into rows in TailWatch's SQLite database. The engine
        does the tailing (rotation, truncation, partial lines, crash recovery) and the transactions;
        a driver only parses and writes. There are three ways to add one:

          A. a definition file, NAME.toml in drivers_dir: no toolchain, no code (most needs);
          B. the same file plus a program NAME.exec that parses each line (any language);
          C. a Swift module compiled into tailwatchd (the stock drivers are written this way).

        A and B are loaded from the folder `drivers_dir` (top level of tailwatch.toml, default
        /etc/tailwatch/drivers.d) at start, on SIGHUP and on --restart. They are listed by
        --version=long and --status=long, switched by --enable=NAME / --disable=NAME (which write
        `[NAME] enabled = …` into tailwatch.toml), and reported by `tailwatch-report custom NAME`.
        A file with a mistake is refused with its file, line and key (logged, and shown by
        --version=long); the other drivers run. NAME is the file's name: lowercase letters, digits
        and '_', not a stock driver's name, not ending in '_counts' or '_vN'.

        A. Declarative drivers (NAME.toml)
        ----------------------------------

        # /etc/tailwatch/drivers.d/sshd_failed.toml
        description = "failed ssh logins per client address"   # optional; also version, enabled
        [input]
        files = ["/var/log/auth.log", "/var/log/secure"]       # and/or: folder = "…", pattern = "*.log"
        contains = "Failed password for "      # literal pre-filter: other lines cost almost nothing
        regex = '^(?<time>\w{3} [ \d]\d \d\d:\d\d:\d\d) \S+ sshd\[\d+\]: Failed password for (?:invalid user )?(?<user>.*) from (?<ip>[0-9A-Fa-f:.]+) port (?<port>\d+) ssh2$'
        # match_limit = 200000                 # PCRE2 steps per line before the line is rejected
        # time = "time"                        # which timestamp column dates the line (if several)
        [columns]                              # one per named capture, in the order you want them
        time = "timestamp syslog"              # syslog | iso8601 | clf | epoch
        user = "text"
        ip = "ip"                              # stored in canonical form (RFC 5952, v4-mapped → v4)
        port = "integer"                       # signed decimal; "-" is 0
        [store]
        lines = true                           # every matching line a row (default: true without [counter])
        keep_days = 30                         # rows and buckets older than this are deleted (0: never)
        [counter]
        by = ["ip"]                            # key columns ([] = one total per bucket)
        bucket_minutes = 5
        # sum = "bytes"                        # an integer column added up per key and bucket

        Instead of regex, a field splitter: split = " " (one character), "\t" or "whitespace"
        (runs of blanks), and fields = ["host", "", "when", …] naming the column of each field
        ("" skips one). Regexes are PCRE2 (JIT-compiled, matched on the line's bytes); a line
        that needs more than match_limit steps (a pattern such as (a+)+$) is rejected and
        counted, never a stall. A value that does not fit its column rejects the line, counted
        by reason in --status=long. A line that does not match is ignored.

        Tables: custom_NAME (id, at, source, your columns) and custom_NAME_counts (bucket, your
        keys, count, sum). `at` is the line's time (the timestamp column, else the time it was
        read); `source` numbers the file (custom_sources). The engine creates them from the
        definition and records each change as a migration of module custom.NAME: a new column is
        added (old rows keep NULL), a column that disappears stays, and a change a table cannot
        take in place (a column's type, the counter's keys or bucket) renames the old table to
        …_vN, where its rows stay, and starts a new one. Nothing is dropped.

        B. External drivers (NAME.exec beside NAME.toml)
        ------------------------------------------------

        NAME.toml is as in A without regex/split (`contains` still filters; answer_timeout_seconds,
        default 10, bounds each answer). NAME.exec is started once and kept running: it reads one
        log line at a time on standard input and answers each at once (flush!) with one line of
        JSON: null or {} for nothing, {"col": value, …} for one event, [{…}, {…}] for several.
        Values: strings (converted as the column's type), integers, numbers for timestamps
        (epoch seconds). What it writes on standard error goes to the daemon log.

          #!/usr/bin/env python3
          import json, re, sys
          SUDO = re.compile(r'^(\w{3} [ \d]\d [\d:]{8}) \S+ sudo:\s+(\S+) : .*?COMMAND=(.*)$')
          for line in sys.stdin:
              m = SUDO.match(line.rstrip("\n"))
              print(json.dumps({"time": m[1], "user": m[2], "command": m[3]} if m else None), flush=True)

        Events commit with the file positions like any driver's. A slow program holds its lines
        back (the tailer waits; nothing is dropped). An answer that is not JSON, or a value that
        does not fit, rejects that line (counted, logged). A program that exits or hangs past the
        timeout is stopped (its process group) and restarted: a line that kills a working program
        is retried once, then rejected; a program that cannot start, or dies before it answers
        anything, pauses its driver — its lines wait, the other drivers read on — and is restarted
        after 0, 1, 2, 4 … 60 s; once it has answered some line, a line that keeps a fresh program
        from answering five times is rejected.

        Examples of both, ready to copy: Examples/drivers.d/ (sshd failures, HTTP 5xx per vhost,
        sudo commands through a Python program).

        C. Swift drivers
        ----------------

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
                 return ConfiguredDriver(enabled: enabled, sources: [.file(log)]) { context, db in
                     try MyDriver(context: context, db: db)
                 }
             }

           `sources` are files (.file(path)) or folders with a pattern (.folder(dir, pattern: "*_log")),
           re-scanned for new files.

        3. A class conforming to LogDriver:

             final class MyDriver: LogDriver {
                 private let insert: PreparedStatement
                 init(context: DriverContext, db: Database) throws {   // db: the engine's connection
                     insert = try PreparedStatement(db, sql: "INSERT INTO my_rows (time, what) VALUES (?, ?)")
                 }
                 func ingest(_ line: ByteLine, from source: SourceFile) throws -> LineOutcome {
                     guard let space = line.firstIndex(of: 0x20) else { return .rejected(.init("no space")) }
                     insert.bind(1, Int64(0))
                     insert.bind(2, line.slice((space + 1)..<line.count))
                     try insert.run()
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
           - tick(_:now:) runs about once a second in a transaction of its own (rollups). Rows kept
             only for a while are declared, not deleted by hand: return RetentionRule(table:,
             column:, key:, cutoff:) values from `retention`, and the engine purges them in short
             slices after the tick.
           - Work on a clock instead of on lines (chkservd) is not a LogDriver: its descriptor
             returns ConfiguredDriver(enabled:, retention:, timed:) whose TimedWork.run() is a
             task beside the engine, cancelled at a reload or a stop (under --once: one round).
             It writes through its own connection (TimedContext.database), so it never holds the
             engine's transaction; blocking work (sockets, commands) goes through
             BlockingWork.run, never on Swift's cooperative threads; context.leases keeps work
             that outlives a round or a reload from starting twice; context.health is the
             engine's view of every log driver (bytes behind, last commit).
           - Side effects outside the database (files other programs read, notifications) are
             registered with context.afterCommit.add(label) { ... } while you work in the
             transaction: the engine runs them after it commits, drops them if it rolls back
             (calling ifDropped:), and retries one that throws after each later commit (a newer
             effect with the same key: replaces it). AtomicFile replaces such files whole;
             context.commands.run(...) runs an operator's command off the engine's thread, with
             a timeout that stops its whole process group, seen through when the daemon stops.
           - Log through the Logger in DriverContext; with --debug, log one "[debug] …" line per event
             when context.debug is true.

        4. Tests: Tests/MyDriverTests/, with Swift Testing, on real files in a temporary folder
           (TestSupport has helpers). Run `swift test`.

        The daemon then lists the driver in --version=long and --status=long, reads its [mydriver]
        table, and --enable=mydriver / --disable=mydriver switch it.
        """#
}
