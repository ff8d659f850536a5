import Foundation
import GRDB
import Testing
import TestSupport

/// Custom drivers through the real binaries: loaded from drivers_dir, listed by --version=long and
/// --status=long, switched with --enable/--disable, reloaded with a changed definition on SIGHUP,
/// a bad definition refused while the others run, and reported by `tailwatch-report custom`.
@Suite(.serialized) struct CustomDriverDaemonTests {
    static let v1 = """
        description = "app events"
        [input]
        files = ["../app.log"]
        split = "whitespace"
        fields = ["user", "action"]
        [columns]
        user = "text"
        action = "text"
        [counter]
        by = ["user"]
        [store]
        lines = true
        """

    func fixture() throws -> DaemonFixture {
        let f = try DaemonFixture(extraTopLevel: "drivers_dir = \"drivers.d\"\nbatch_interval_ms = 20\npoll_interval_ms = 50")
        try FileManager.default.createDirectory(atPath: f.folder.file("drivers.d"), withIntermediateDirectories: true)
        try Self.v1.write(toFile: f.folder.file("drivers.d/app.toml"), atomically: false, encoding: .utf8)
        // A broken definition beside it: refused, and the rest runs.
        try "[input]\nfiles = [\"x\"]\nregex = '(?<a>'\n[columns]\na = \"text\"\n".write(toFile: f.folder.file("drivers.d/broken.toml"), atomically: false, encoding: .utf8)
        return f
    }

    @Test func onceListsAndReportsACustomDriverAndRefusesTheBrokenOne() throws {
        let f = try fixture()
        try LogWriter.append(f.folder.file("app.log"), "bob login\ncarol login\nbob logout\n")
        let once = try f.run(["--once", "--config", f.configPath])
        #expect(once.code == 0)
        #expect(once.stdout.contains("app: 3 lines read, 3 events written, 0 ignored, 0 rejected"), "\(once.stdout)")
        #expect(once.stderr.contains("broken.toml:3: 'regex' in [input] does not compile"), "\(once.stderr)")
        #expect(f.daemonLog.contains("broken.toml:3"))

        let version = try f.run(["--version=long", "--config", f.configPath])
        #expect(version.stdout.contains("app 1: custom (declarative"))
        #expect(version.stdout.contains("refused: ") && version.stdout.contains("broken.toml:3"))
        let status = try f.run(["--status=long", "--config", f.configPath])
        #expect(status.stdout.contains("app: enabled, 1 file, 3 lines read, 3 events written, 0 lines rejected"), "\(status.stdout)")

        let report = try f.run(["--config", f.configPath, "custom", "app", "--format", "csv"], binary: "tailwatch-report")
        #expect(report.code == 0)
        #expect(report.stdout == "user,count\nbob,2\ncarol,1\n", "\(report.stdout)")
        let lines = try f.run(["--config", f.configPath, "custom", "app", "--lines", "--format", "json"], binary: "tailwatch-report")
        #expect(lines.stdout.contains("\"user\":\"bob\",\"action\":\"logout\""), "\(lines.stdout)")
        #expect(lines.stdout.contains(f.folder.file("app.log")))
        let unknown = try f.run(["--config", f.configPath, "custom", "app", "--by", "nosuch"], binary: "tailwatch-report")
        #expect(unknown.code == 2 && unknown.stderr.contains("'nosuch' is neither a column of app nor a period"))

        // --disable writes [app] enabled = false into the configuration; --once then skips it.
        let disable = try f.run(["--disable=app", "--config", f.configPath])
        #expect(disable.code == 0 && disable.stdout.contains("app: disabled"))
        try LogWriter.append(f.folder.file("app.log"), "dave login\n")
        let skipped = try f.run(["--once", "--config", f.configPath])
        #expect(!skipped.stdout.contains("app:"))
        #expect(try f.run(["--enable=app", "--config", f.configPath]).code == 0)
        let again = try f.run(["--once", "--config", f.configPath])
        #expect(again.stdout.contains("app: 1 lines read, 1 events written"), "\(again.stdout)")
        #expect(try f.run(["--enable=nosuch", "--config", f.configPath]).code == 2)
    }

    /// A refused definition whose name has a table in tailwatch.toml (what --disable writes) does
    /// not stop the daemon; a driver that cannot open (its table is not of its shape) is left out
    /// and reported, and the others run and commit.
    @Test func aBadCustomDriverNeverStopsTheOthers() throws {
        let f = try fixture()
        let disable = try f.run(["--disable=broken", "--config", f.configPath])
        #expect(disable.code == 0, "\(disable.stderr)")
        try LogWriter.append(f.folder.file("app.log"), "bob login\n")
        let once = try f.run(["--once", "--config", f.configPath])
        #expect(once.code == 0 && once.stdout.contains("app: 1 lines read"), "\(once.stdout) \(once.stderr)")

        let queue = try DatabaseQueue(path: f.databasePath)
        try queue.write { db in try db.execute(sql: "CREATE TABLE custom_odd (x TEXT)") }
        try queue.close()
        try "[input]\nfiles = [\"../odd.log\"]\nsplit = \" \"\nfields = [\"word\"]\n[columns]\nword = \"text\"\n"
            .write(toFile: f.folder.file("drivers.d/odd.toml"), atomically: false, encoding: .utf8)
        try LogWriter.append(f.folder.file("odd.log"), "x\n")
        try LogWriter.append(f.folder.file("app.log"), "carol login\n")
        let again = try f.run(["--once", "--config", f.configPath])
        #expect(again.code == 1)
        #expect(again.stderr.contains("odd not started: table custom_odd exists but is not this driver's"), "\(again.stderr)")
        #expect(again.stdout.contains("app: 1 lines read, 1 events written"), "\(again.stdout)")
        let rows: Int? = try f.query("SELECT COUNT(*) FROM custom_app")
        #expect(rows == 2)
    }

    /// The guide's complete example is a definition the daemon accepts as printed.
    @Test func theDriverDocsExampleLoadsAsPrinted() throws {
        let f = try fixture()
        let docs = try f.run(["--driver-docs"]).stdout
        let lines = docs.components(separatedBy: "\n")
        guard let start = lines.firstIndex(of: "# /etc/tailwatch/drivers.d/sshd_failed.toml"),
              let end = lines[start...].firstIndex(of: "") else {
            Issue.record("no example definition in --driver-docs")
            return
        }
        try lines[start..<end].joined(separator: "\n").write(toFile: f.folder.file("drivers.d/docs_example.toml"), atomically: false, encoding: .utf8)
        let version = try f.run(["--version=long", "--config", f.configPath])
        #expect(version.stdout.contains("docs_example 1: custom (declarative"), "\(version.stdout)")
        #expect(!version.stdout.contains("docs_example.toml:"), "\(version.stdout)")
        #expect(docs.contains("NAME.exec") && docs.contains("tailwatch-report custom NAME"))
    }

    /// SIGHUP with a changed definition: the new column is added by a migration, old rows keep
    /// theirs, and lines after the reload fill it; nothing is read twice.
    @Test func aReloadWithAChangedDefinitionMigratesAndReadsOn() throws {
        let f = try fixture()
        let log = f.folder.file("app.log")
        try LogWriter.append(log, "bob login\n")
        let daemon = try f.startForeground()
        defer { kill(daemon.processIdentifier, SIGKILL); daemon.waitUntilExit() }
        #expect(f.waitUntil(seconds: 20) { ((try? f.query("SELECT COUNT(*) FROM custom_app")) as Int?) == 1 })

        let v2 = Self.v1.replacingOccurrences(of: "fields = [\"user\", \"action\"]", with: "fields = [\"user\", \"action\", \"ms\"]")
            .replacingOccurrences(of: "action = \"text\"", with: "action = \"text\"\nms = \"integer\"")
        try v2.write(toFile: f.folder.file("drivers.d/app.toml"), atomically: false, encoding: .utf8)
        kill(daemon.processIdentifier, SIGHUP)
        #expect(f.waitUntil(seconds: 20) { ((try? f.query("SELECT COUNT(*) FROM tailwatch_migrations WHERE module = 'custom.app'")) as Int?) == 2 })
        try LogWriter.append(log, "bob logout 42\n")
        #expect(f.waitUntil(seconds: 20) { ((try? f.query("SELECT COUNT(*) FROM custom_app")) as Int?) == 2 })
        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus == 0)
        let ms: Int? = try f.query("SELECT ms FROM custom_app WHERE action = 'logout'")
        let old: Int? = try f.query("SELECT COUNT(*) FROM custom_app WHERE action = 'login' AND ms IS NULL")
        let total: Int? = try f.query("SELECT SUM(count) FROM custom_app_counts")
        #expect(ms == 42 && old == 1 && total == 2)
    }

    /// A machine without PCRE2's runtime library (simulated by pointing the loader at a file that
    /// does not exist): the regex driver is refused with a one-line error saying what to install,
    /// and the stock driver and the split driver still run and commit.
    @Test func withoutPCRE2OnlyRegexDriversAreRefused() throws {
        let f = try fixture()
        try FileManager.default.removeItem(atPath: f.folder.file("drivers.d/broken.toml"))
        try "[input]\nfiles = [\"../app.log\"]\nregex = '^(?<user>\\w+) '\n[columns]\nuser = \"text\"\n[counter]\nby = [\"user\"]\n"
            .write(toFile: f.folder.file("drivers.d/rx.toml"), atomically: false, encoding: .utf8)
        try LogWriter.append(f.folder.file("app.log"), "bob login\ncarol login\n")
        try LogWriter.append(f.mainlog, MainlogGenerator.lines(0..<20))
        var environment = ProcessInfo.processInfo.environment
        environment["TAILWATCH_PCRE2_LIBRARY"] = f.folder.file("no-such-libpcre2-8.so.0")
        let once = try f.run(["--once", "--config", f.configPath], environment: environment)
        #expect(once.code == 0, "\(once.stderr)")
        let refusal = once.stderr.split(separator: "\n").filter { $0.contains("rx.toml") }
        #expect(refusal.count == 1, "\(once.stderr)")
        #expect(refusal.first?.contains("rx.toml:3: 'regex' in [input] needs PCRE2") == true, "\(once.stderr)")
        #expect(refusal.first?.contains("apt-get install libpcre2-8-0") == true, "\(once.stderr)")
        #expect(once.stdout.contains("app: 2 lines read, 2 events written"), "\(once.stdout)")
        let sent: Int? = try f.query("SELECT COUNT(*) FROM sends")
        #expect((sent ?? 0) > 0)

        // The same definition with the library present compiles and counts.
        let again = try f.run(["--once", "--config", f.configPath])
        #expect(again.code == 0 && !again.stderr.contains("rx.toml"), "\(again.stderr)")
        #expect(again.stdout.contains("rx: 2 lines read, 2 events written"), "\(again.stdout)")
    }
}
