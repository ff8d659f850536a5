import Foundation
import TailWatchComposition
import Testing
import TestSupport

/// The daemon's and the report's command lines, as an operator and a cron job use them.
@Suite(.serialized) struct CommandLineTests {
    @Test func badFlagsAndBadConfigurationAreOneLineAndExitTwo() throws {
        let f = try DaemonFixture()
        let unknownFlag = try f.run(["--start", "--bogus", "--config", f.configPath])
        #expect(unknownFlag.code == 2)
        #expect(unknownFlag.stderr == "tailwatchd: Unknown option '--bogus'\n")
        let twoActions = try f.run(["--start", "--stop", "--config", f.configPath])
        #expect(twoActions.code == 2)
        let noAction = try f.run(["--config", f.configPath])
        #expect(noAction.code == 2 && noAction.stderr.contains("no action"))

        try f.folder.write("typo.toml", "database = \"x.sqlite3\"\n\n[eximstats]\nlgo = \"/var/log/exim_mainlog\"\n")
        let typo = try f.run(["--once", "--config", f.folder.file("typo.toml")])
        #expect(typo.code == 2)
        #expect(typo.stderr.contains("typo.toml:4: unknown key 'lgo' in [eximstats]"))
        #expect(typo.stderr.split(separator: "\n").count == 1)

        try f.folder.write("driver.toml", "[eximstat]\nenabled = true\n")
        let driver = try f.run(["--once", "--config", f.folder.file("driver.toml")])
        #expect(driver.code == 2 && driver.stderr.contains("driver.toml:1: unknown driver [eximstat]"))

        try f.folder.write("syntax.toml", "database = /no/quotes\n")
        let syntax = try f.run(["--once", "--config", f.folder.file("syntax.toml")])
        #expect(syntax.code == 2 && syntax.stderr.contains("syntax.toml:1: cannot read value"))

        try f.folder.write("type.toml", "[eximstats]\nretention_days = \"ten\"\n")
        let type = try f.run(["--once", "--config", f.folder.file("type.toml")])
        #expect(type.code == 2 && type.stderr.contains("type.toml:2: 'retention_days' in [eximstats] must be an integer"))

        let missing = try f.run(["--status", "--config", f.folder.file("nope.toml")])
        #expect(missing.code == 2 && missing.stderr.contains("configuration file not found"))

        // TAILWATCH_CONFIG is used when --config is not given.
        var environment = ProcessInfo.processInfo.environment
        environment["TAILWATCH_CONFIG"] = f.folder.file("typo.toml")
        let fromEnvironment = try f.run(["--status"], environment: environment)
        #expect(fromEnvironment.code == 2 && fromEnvironment.stderr.contains("typo.toml:4"))
    }

    @Test func onceIsIdempotentAndStatusLongReportsTheFigures() throws {
        let f = try DaemonFixture()
        try LogWriter.append(f.mainlog, MainlogGenerator.lines(0..<100))
        let first = try f.run(["--once", "--config", f.configPath])
        #expect(first.code == 0)
        #expect(first.stdout.contains("eximstats: 300 lines read, 200 events written, 100 ignored, 0 rejected"))
        let second = try f.run(["--once", "--config", f.configPath])
        #expect(second.stdout.contains("eximstats: 0 lines read"))
        let sends: Int? = try f.query("SELECT COUNT(*) FROM sends")
        #expect(sends == 100)

        try LogWriter.append(f.mainlog, "partial line without newline")
        let status = try f.run(["--status=long", "--config", f.configPath])
        #expect(status.code == 0)
        #expect(status.stdout.contains("tailwatchd is not running"))
        #expect(status.stdout.contains("eximstats: enabled, 1 file, 300 lines read, 200 events written, 0 lines rejected"))
        #expect(status.stdout.contains("exim_mainlog: 28 bytes behind the end"))
    }

    @Test func versionAndDriverDocs() throws {
        let f = try DaemonFixture()
        let short = try f.run(["--version"])
        #expect(short.code == 0 && short.stdout == "tailwatchd 1.0.0\n")
        let long = try f.run(["--version=long"])
        #expect(long.stdout.contains("eximstats 1.0.0"))
        let docs = try f.run(["--driver-docs"])
        #expect(docs.code == 0 && docs.stdout.contains("LogDriver") && docs.stdout.contains("DriverRegistry"))
        let help = try f.run(["--help"])
        #expect(help.code == 0 && help.stdout.contains("--status"))
    }

    @Test func startRefusesASecondInstanceStatusSeesItAndStopEndsIt() throws {
        let f = try DaemonFixture()
        try LogWriter.append(f.mainlog, MainlogGenerator.lines(0..<50))
        let start = try f.run(["--start", "--config", f.configPath])
        #expect(start.code == 0, "\(start.stderr)")
        #expect(start.stdout.hasPrefix("tailwatchd started (pid "))
        defer { _ = try? f.run(["--stop", "--config", f.configPath]) }
        let again = try f.run(["--start", "--config", f.configPath])
        #expect(again.code == 1 && again.stderr.contains("already running"))
        let once = try f.run(["--once", "--config", f.configPath])
        #expect(once.code == 1 && once.stderr.contains("would count its lines twice"))
        let status = try f.run(["--status", "--config", f.configPath])
        #expect(status.stdout.hasPrefix("tailwatchd is running (pid "))
        #expect(f.waitUntil(seconds: 10) { ((try? f.query("SELECT COUNT(*) FROM sends")) as Int??) == 50 })

        // --disable while it runs: the file is rewritten (comments kept) and the daemon reloads.
        let disable = try f.run(["--disable=eximstats", "--config", f.configPath])
        #expect(disable.code == 0 && disable.stdout.contains("asked the running tailwatchd"))
        let text = try String(contentsOfFile: f.configPath, encoding: .utf8)
        #expect(text.contains("enabled = false") && text.contains("log = \"exim_mainlog\""))
        #expect(f.waitUntil(seconds: 10) { f.daemonLog.contains("configuration reloaded; drivers: \n") || f.daemonLog.contains("configuration reloaded; drivers: ") })
        try LogWriter.append(f.mainlog, MainlogGenerator.lines(50..<60))
        usleep(300_000)
        let whileDisabled: Int? = try f.query("SELECT COUNT(*) FROM sends")
        #expect(whileDisabled == 50)
        let enable = try f.run(["--enable=eximstats", "--config", f.configPath])
        #expect(enable.code == 0)
        #expect(f.waitUntil(seconds: 10) { ((try? f.query("SELECT COUNT(*) FROM sends")) as Int??) == 60 })

        let restart = try f.run(["--restart", "--config", f.configPath])
        #expect(restart.code == 0 && restart.stdout.contains("stopped") && restart.stdout.contains("started"))
        #expect(restart.stdout.components(separatedBy: "(pid ").count == 3)
        let afterRestart: Int? = try f.query("SELECT COUNT(*) FROM sends")
        #expect(afterRestart == 60)

        let stop = try f.run(["--stop", "--config", f.configPath])
        #expect(stop.code == 0 && stop.stdout.contains("stopped"))
        let after = try f.run(["--status", "--config", f.configPath])
        #expect(after.stdout == "tailwatchd is not running\n")
        #expect(f.daemonLog.contains("[TailWatch] [INFO] tailwatchd 1.0.0 started"))
        let stopAgain = try f.run(["--stop", "--config", f.configPath])
        #expect(stopAgain.code == 0 && stopAgain.stdout.contains("not running"))
    }

    /// `services --history`: a service down for two `--once` rounds has one open outage, its cause
    /// what the check saw, and 0 % uptime; nested in JSON, listed under the table.
    @Test func reportServicesHistoryInEachFormat() throws {
        let port = FreePort.next()  // nothing listens
        let f = try DaemonFixture(extraTopLevel: """
            [chkservd]
            enabled = true
            config_dir = "chkserv.d"
            log = "chkservd.log"
            run_dir = "chkservd-run"
            """)
        try FileManager.default.createDirectory(atPath: f.folder.file("chkserv.d"), withIntermediateDirectories: true)
        try f.folder.write("chkserv.d/chkservd.conf", "ghost:1\n")
        try f.folder.write("chkserv.d/ghost", "service[ghost]=\(port),QUIT,220\nfailure_threshold=9\n")
        try f.run(["--once", "--config", f.configPath])
        try f.run(["--once", "--config", f.configPath])
        let json = try f.run(["--config", f.configPath, "services", "--history", "--format", "json"], binary: "tailwatch-report")
        #expect(json.code == 0, "\(json.stderr)")
        let rows = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        let ghost = try #require(rows?.first)
        #expect(ghost["service"] as? String == "ghost" && ghost["status"] as? String == "down")
        #expect(ghost["uptime_24h"] as? Double == 0 && ghost["uptime_30d"] as? Double == 0)
        let outages = try #require(ghost["outages"] as? [[String: Any]])
        #expect(outages.count == 1)
        #expect(outages.first?["end"] is NSNull && outages.first?["checks"] as? Int == 2 && outages.first?["restarts"] as? Int == 0)
        #expect((outages.first?["cause"] as? String)?.contains("Connection refused") == true)

        let table = try f.run(["--config", f.configPath, "services", "--history"], binary: "tailwatch-report")
        #expect(table.stdout.contains("uptime_24h") && table.stdout.contains("\nghost:\n") && table.stdout.contains("Connection refused"))
        let csv = try f.run(["--config", f.configPath, "services", "--history", "--format", "csv"], binary: "tailwatch-report")
        #expect(csv.stdout.split(separator: "\n").last == "ghost,down,0.00,0.00,0.00,1")
    }

    @Test func reportMailInEachFormat() throws {
        let f = try DaemonFixture()
        try LogWriter.append(f.mainlog, MainlogGenerator.lines(0..<20))
        try f.run(["--once", "--config", f.configPath])
        let json = try f.run(["--config", f.configPath, "mail", "--user", "user3", "--format", "json"], binary: "tailwatch-report")
        #expect(json.code == 0)
        let rows = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(rows?.count == 1)
        #expect(rows?.first?["user"] as? String == "user3")
        #expect(rows?.first?["sent"] as? Int == 2)
        #expect(rows?.first?["delivered"] as? Int == 2)
        #expect(rows?.first?["sent_bytes"] as? Int == 1003 + 1013)
        #expect(rows?.first?.keys.contains("period") == true && rows?.first?["period"] is NSNull)

        let csv = try f.run(["--config", f.configPath, "mail", "--by", "hour", "--format", "csv"], binary: "tailwatch-report")
        let lines = csv.stdout.split(separator: "\n")
        #expect(lines.first == "user,period,sent,sent_bytes,delivered,failed,deferred")
        #expect(lines.count == 11)
        #expect(lines.dropFirst().allSatisfy { $0.contains(",2026-11-02T09:00:00Z,2,") })

        let table = try f.run(["--config", f.configPath, "mail"], binary: "tailwatch-report")
        #expect(table.stdout.contains("user0") && table.stdout.contains("total"))

        let empty = try f.run(["--config", f.configPath, "mail", "--user", "nobody", "--format", "json"], binary: "tailwatch-report")
        #expect(empty.code == 0 && empty.stdout == "[]\n")

        let badTime = try f.run(["--config", f.configPath, "mail", "--since", "yesterday"], binary: "tailwatch-report")
        #expect(badTime.code == 2 && badTime.stderr.contains("--since: cannot read time 'yesterday'"))
        let badFormat = try f.run(["--config", f.configPath, "mail", "--format", "xml"], binary: "tailwatch-report")
        #expect(badFormat.code == 2)
    }

    @Test func relayHostsReportAndCronExport() throws {
        let f = try DaemonFixture(eximExtra: """

            [antirelayd]
            enabled = true
            maillog = "maillog"
            local_addresses = ["198.51.100.1"]
            export = "relay/recent_authed_mail_ips"
            export_users = "relay/recent_authed_mail_ips_users"
            """)
        try FileManager.default.createDirectory(atPath: f.folder.file("relay"), withIntermediateDirectories: true)
        let now = Date()
        try LogWriter.append(f.folder.file("maillog"),
            SyslogStamp.dovecotLogin(now.addingTimeInterval(-120), user: "bob", ip: "::ffff:203.0.113.7")
            + SyslogStamp.dovecotLogin(now.addingTimeInterval(-60), user: "carol", ip: "203.0.113.7", protocol: "pop3")
            + SyslogStamp.dovecotLogin(now.addingTimeInterval(-60), user: "proxy", ip: "198.51.100.1"))
        try f.run(["--once", "--config", f.configPath])
        // The daemon's own export.
        #expect(try String(contentsOfFile: f.folder.file("relay/recent_authed_mail_ips"), encoding: .utf8) == "203.0.113.7\n")

        let json = try f.run(["--config", f.configPath, "relayhosts", "--format", "json"], binary: "tailwatch-report")
        #expect(json.code == 0)
        let rows = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(rows?.count == 1)
        #expect(rows?.first?["ip"] as? String == "203.0.113.7")
        #expect(rows?.first?["users"] as? [String] == ["carol", "bob"])
        #expect((rows?.first?["last_login"] as? String)?.hasSuffix("Z") == true)

        // The cron entry point: files written atomically, nothing printed.
        let hosts = f.folder.file("cron-ips"), users = f.folder.file("cron-users")
        let export = try f.run(["--config", f.configPath, "relayhosts", "--export", hosts, "--users-export", users], binary: "tailwatch-report")
        #expect(export.code == 0 && export.stdout.isEmpty)
        #expect(try String(contentsOfFile: hosts, encoding: .utf8) == "203.0.113.7\n")
        #expect(try String(contentsOfFile: users, encoding: .utf8) == "203.0.113.7: carol, bob\n")
        // A window that ended before the logins: empty list, empty file (exim needs the file).
        let narrow = try f.run(["--config", f.configPath, "relayhosts", "--window", "1", "--export", hosts], binary: "tailwatch-report")
        #expect(narrow.code == 0)
        #expect(try String(contentsOfFile: hosts, encoding: .utf8) == "")

        let badWindow = try f.run(["--config", f.configPath, "relayhosts", "--window", "0"], binary: "tailwatch-report")
        #expect(badWindow.code == 2 && badWindow.stderr.contains("--window"))
        let badTarget = try f.run(["--config", f.configPath, "relayhosts", "--export", f.folder.file("no/such/folder/ips")], binary: "tailwatch-report")
        #expect(badTarget.code == 1 && badTarget.stderr.contains("no/such/folder"))
    }

    @Test func topSendersAndLimitsForAnOutbreak() throws {
        let limits = "site3.example: 2\n"
        let f = try DaemonFixture(eximExtra: "send_limits = \"send_limits\"\nlimits_dir = \"markers\"")
        try f.folder.write("send_limits", limits)
        // Twenty messages in the last half minute, ten senders in turn: two each, all in this
        // clock hour (in the first 40 s of an hour, wait until they can be).
        let intoHour = Int(Date().timeIntervalSince1970) % 3600
        if intoHour < 40 { Thread.sleep(forTimeInterval: Double(41 - intoHour)) }
        if intoHour > 3540 { Thread.sleep(forTimeInterval: Double(3641 - intoHour)) }
        let now = Int(Date().timeIntervalSince1970)
        try LogWriter.append(f.mainlog, MainlogGenerator.lines(0..<20, start: now - 30))
        try f.run(["--once", "--config", f.configPath])

        let top = try f.run(["--config", f.configPath, "mail", "top-senders", "--limit", "3", "--format", "json"], binary: "tailwatch-report")
        #expect(top.code == 0, "\(top.stderr)")
        let rows = try JSONSerialization.jsonObject(with: Data(top.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(rows.filter { $0["kind"] as? String == "user" }.count == 3)
        #expect(rows.allSatisfy { $0["messages"] as? Int == 2 && $0["recipients"] as? Int == 2 })
        #expect(rows.contains { $0["kind"] as? String == "ip" && ($0["name"] as? String)?.hasPrefix("203.0.113.") == true })
        #expect(rows.contains { $0["kind"] as? String == "auth" && ($0["name"] as? String)?.hasSuffix(".example") == true })

        let standing = try f.run(["--config", f.configPath, "mail", "limits", "--format", "json"], binary: "tailwatch-report")
        #expect(standing.code == 0, "\(standing.stderr)")
        let domains = try JSONSerialization.jsonObject(with: Data(standing.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(domains.count == 1)
        #expect(domains.first?["domain"] as? String == "site3.example" && domains.first?["status"] as? String == "over")
        #expect(domains.first?["deliveries"] as? Int == 2 && domains.first?["limit"] as? Int == 2)
        #expect(try String(contentsOfFile: f.folder.file("markers/max_emails_site3.example"), encoding: .utf8) == "2/2\n")

        let bad = try f.run(["--config", f.configPath, "mail", "top-senders", "--limit", "0"], binary: "tailwatch-report")
        #expect(bad.code == 2)
    }

    @Test func traceLogsTheFirstLinesAndDebugEachEvent() throws {
        let f = try DaemonFixture()
        try LogWriter.append(f.mainlog, MainlogGenerator.lines(0..<5))
        let result = try f.run(["--once", "--trace=4", "--debug", "--config", f.configPath])
        #expect(result.code == 0)
        let lines = f.daemonLog.split(separator: "\n")
        #expect(lines.filter { $0.contains("] [eximstats] [trace] ") }.count == 4)
        #expect(lines.filter { $0.contains("] [eximstats] [DEBUG] [debug] <= ") }.count == 5)
        #expect(lines.filter { $0.contains("] [eximstats] [DEBUG] [debug] => ") }.count == 5)
        // Bare --trace means 10000 lines; it is rewritten before parsing.
        let bare = try f.run(["--once", "--trace", "--config", f.configPath])
        #expect(bare.code == 0)
    }

    @Test func crlfConfigurationsCommentedHeadersAndHugeSpansFoundInReview() throws {
        let f = try DaemonFixture()
        // CRLF line ends: read line by line, so the unknown key is found on its own line.
        try f.folder.write("crlf.toml", "# my config\r\ndatabase = \"x.sqlite3\"\r\nbogus_key = 1\r\n")
        let crlf = try f.run(["--status", "--config", f.folder.file("crlf.toml")])
        #expect(crlf.code == 2 && crlf.stderr.contains("crlf.toml:3: unknown key 'bogus_key'"))
        // --disable finds a header written with spaces and a comment.
        let text = try String(contentsOfFile: f.configPath, encoding: .utf8).replacingOccurrences(of: "[eximstats]", with: "[ eximstats ]   # exim")
        try text.write(toFile: f.configPath, atomically: true, encoding: .utf8)
        let disable = try f.run(["--disable=eximstats", "--config", f.configPath])
        #expect(disable.code == 0, "\(disable.stderr)")
        let after = try String(contentsOfFile: f.configPath, encoding: .utf8)
        #expect(after.contains("enabled = false") && !after.contains("enabled = true"))
        // A span too long for the clock is a usage error, not a crash.
        try f.run(["--once", "--config", f.configPath])
        let huge = try f.run(["--config", f.configPath, "mail", "--since", "200000000000000d"], binary: "tailwatch-report")
        #expect(huge.code == 2 && huge.stderr.contains("too long"))
    }
}
