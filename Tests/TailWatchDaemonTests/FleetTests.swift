import CustomDrivers
import FleetShipper
import FleetStore
import Foundation
import GRDB
import Testing
import TailWatchComposition
import TailWatchEngine
import TestSupport

/// Servers shipping to one real PostgreSQL (a private cluster: `tools/pg-test-cluster`), read back
/// with `tailwatch-report --fleet`: the fleet's answer is the sum of the servers' own.
@Suite struct FleetTests {
    /// Report arguments whose fleet answer must equal the servers' own, row for row.
    static let reports: [[String]] = [
        ["bandwidth"], ["bandwidth", "--by", "hour"], ["bandwidth", "--by", "day"], ["bandwidth", "--by", "month"],
        ["bandwidth", "--user", "bob", "--by", "day"], ["bandwidth", "--protocol", "http", "--by", "hour"],
        ["bandwidth", "--since", "2026-11-02T09:00:00Z", "--until", "2026-11-03", "--by", "hour"],
        ["mail"], ["mail", "--by", "hour"], ["mail", "--by", "day"], ["mail", "--user", "bob"],
        ["mail", "--since", "2026-11-02T09:00:00Z", "--until", "2026-11-02T12:00:00Z"],
        ["relayhosts"], ["relayhosts", "--window", "10080"],
        ["services"], ["services", "--service", "tailwatch-self"], ["services", "--history"],
        ["custom", "http_5xx"], ["custom", "http_5xx", "--by", "status,hour"], ["custom", "http_5xx", "--by", "vhost,month"],
        ["custom", "sshd_failed", "--by", "day"], ["custom", "sshd_failed", "--by", "ip", "--since", "2026-11-28T09:20:00Z"],
    ]

    /// A 5xx answer only the second server gave.
    static let web2AccessLog = """
        www.carolcakes.example:443 192.0.2.60 - - [28/Nov/2026:10:00:00 +0000] "GET /oven HTTP/1.1" 503 999 "-" "Mozilla/5.0"

        """

    /// A successful IMAP or POP3 login a minute ago (the relay window counts back from now), in
    /// the example's maillog format (UTC, as its config says).
    static func login(_ user: String, from ip: String, protocol proto: String = "imap") -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "MMM d HH:mm:ss"
        let stamp = formatter.string(from: Date().addingTimeInterval(-60))
        // syslog pads a one-digit day with a space.
        let padded = stamp.count == 14 ? stamp.replacingOccurrences(of: " ", with: "  ", options: [], range: stamp.range(of: " ")) : stamp
        return "\(padded) server dovecot[811]: \(proto)-login: Login: user=<\(user)>, method=PLAIN, rip=\(ip), lip=192.0.2.1, mpid=4250, TLS, session=<s\(ip.count)>\n"
    }

    /// A second server's own traffic: another account's bytes and mail, and a line from a clock
    /// five years ahead (its rows ship like any other and are reported where the line said).
    static let web2Domlog = """
        192.0.2.50 - - [02/Nov/2026:13:00:00 +0000] "GET /menu HTTP/1.1" 200 12345 "-" "Mozilla/5.0"
        192.0.2.51 - - [03/Nov/2026:08:30:00 +0000] "GET /order HTTP/1.1" 200 54321 "-" "Mozilla/5.0"
        192.0.2.52 - - [02/Nov/2031:10:00:00 +0000] "GET /future HTTP/1.1" 200 777 "-" "Mozilla/5.0"

        """
    static let web2Mainlog = """
        2026-11-02 14:00:00 1vQy7a-0007Aa-1A <= carol@carolcakes.example H=(pc) [203.0.113.7] P=esmtpa A=dovecot_login:carol@carolcakes.example S=3000 id=q@pc from <carol@carolcakes.example> for pat@example.org
        2026-11-02 14:00:01 1vQy7a-0007Aa-1A => pat@example.org R=dkim_lookuphost T=dkim_remote_smtp H=mx.example.org [198.51.100.7] C="250 OK"
        2026-11-02 14:00:01 1vQy7a-0007Aa-1A Completed

        """

    @Test func twoServersShipToOneDatabaseAndTheFleetAnswersWithTheSumOfTheirReports() throws {
        let pg = try PostgresTestServer.shared
        let url = try pg.freshDatabase()
        let web1 = try FleetFixture(host: "web1.example", postgres: url, password: pg.password)
        let web2 = try FleetFixture(host: "web2.example", postgres: url, password: pg.password)
        try LogWriter.append(web2.examples + "/domlogs/www.carolcakes.example", Self.web2Domlog)
        try LogWriter.append(web2.examples + "/logs/exim_mainlog", Self.web2Mainlog)
        try LogWriter.append(web2.examples + "/logs/access_log", Self.web2AccessLog)
        try LogWriter.append(web1.examples + "/logs/maillog", Self.login("bob@bobsbikes.example", from: "203.0.113.40") + Self.login("carol@carolcakes.example", from: "203.0.113.40", protocol: "pop3"))
        try LogWriter.append(web2.examples + "/logs/maillog", Self.login("carol@carolcakes.example", from: "198.51.100.9"))
        for server in [web1, web2] {
            try server.once()
            #expect(server.unshipped() ?? 0 > 0, "the outbox holds the rows written before the first shipment")
            try server.start()
        }
        #expect(web1.waitShipped(), "web1 shipped: \(web1.daemonLog())")
        #expect(web2.waitShipped(), "web2 shipped: \(web2.daemonLog())")
        web1.stop()
        web2.stop()

        for arguments in Self.reports {
            let fleet = Set(try web1.report(arguments, fleet: true))
            let sum = try web1.localRowsAsFleet(arguments).union(web2.localRowsAsFleet(arguments))
            #expect(!fleet.isEmpty, "\(arguments) has rows")
            #expect(fleet == sum, "\(arguments): fleet \(fleet.subtracting(sum)) vs servers \(sum.subtracting(fleet))")
            let one = Set(try web1.report(["--host", "web2.example"] + arguments, fleet: true))
            #expect(one == (try web2.localRowsAsFleet(arguments)), "--host web2.example \(arguments)")
        }
        // --per: the fleet sums in SQL what the servers' rows add up to.
        for (fleetArguments, localArguments) in [
            (["bandwidth", "--by", "day", "--per", "host,protocol"], ["bandwidth", "--by", "day", "--per", "protocol"]),
            (["bandwidth", "--by", "month", "--per", "host,user"], ["bandwidth", "--by", "month", "--per", "user"]),
            (["mail", "--by", "hour", "--per", "host"], ["mail", "--by", "hour", "--per", "none"]),
        ] {
            let fleet = Set(try web1.report(fleetArguments, fleet: true))
            #expect(fleet == (try web1.localRowsAsFleet(localArguments).union(web2.localRowsAsFleet(localArguments))), "\(fleetArguments)")
        }
        var perProtocol: [String: Int] = [:]
        for row in try web1.report(["bandwidth", "--by", "day"]) + (try web2.report(["bandwidth", "--by", "day"])) {
            perProtocol[row["protocol"]! + " " + row["period"]!, default: 0] += Int(row["bytes"]!)!
        }
        let summed = try web1.report(["bandwidth", "--by", "day", "--per", "protocol"], fleet: true)
        #expect(summed.allSatisfy { $0["host"] == "null" && $0["user"] == "null" })
        #expect(Dictionary(uniqueKeysWithValues: summed.map { ($0["protocol"]! + " " + $0["period"]!, Int($0["bytes"]!)!) }) == perProtocol)

        // The line from 2031 is in the fleet where the server put it.
        let future = try web1.report(["bandwidth", "--since", "2031-01-01", "--by", "day"], fleet: true)
        #expect(future.count == 1)
        #expect(future.first?["host"] == "web2.example" && future.first?["bytes"] == "777")
        // A bound inside an hour widens to the whole hour in the fleet (it keeps no 5-minute rows).
        let widened = Set(try web1.report(["bandwidth", "--since", "2026-11-02T09:10:00Z", "--until", "2026-11-02T10:00:00Z"], fleet: true))
        let hour = ["bandwidth", "--since", "2026-11-02T09:00:00Z", "--until", "2026-11-02T10:00:00Z"]
        let wholeHour = try web1.localRowsAsFleet(hour).union(web2.localRowsAsFleet(hour))
        #expect(widened == wholeHour)

        // Each shipped table has the same columns in the outbox and in PostgreSQL.
        let connection = try PostgresConnection(url: url, password: pg.password)
        let local = try DatabaseQueue(path: web1.databasePath)
        for table in ShippedTable.all {
            let remote = try connection.query("SELECT column_name FROM information_schema.columns WHERE table_name = $1", [table.name]).compactMap { $0.first ?? nil }
            #expect(Set(remote) == Set(["host"] + table.columns + ["version"]), "\(table.name) in PostgreSQL")
            let outbox = try local.read { db in try db.columns(in: table.outbox).map(\.name) }
            #expect(Set(outbox) == Set(["seq"] + table.columns + ["queued_at"]), "\(table.outbox) in SQLite")
        }
        let status = try web1.run("tailwatchd", ["--config", web1.configPath, "--status=long"])
        #expect(status.out.contains("fleet: host 'web1.example', 0 rows not shipped yet"), "\(status.out)")
    }

    @Test func aRebuiltDatabaseReplacesItsServersRowsAndLeavesTheOthersAlone() throws {
        let pg = try PostgresTestServer.shared
        let url = try pg.freshDatabase()
        let web1 = try FleetFixture(host: "web1.example", postgres: url, password: pg.password)
        let web2 = try FleetFixture(host: "web2.example", postgres: url, password: pg.password)
        for server in [web1, web2] {
            try server.once()
            try server.runUntilShipped()
        }
        // web2's disk is replaced: a new SQLite file, and logs holding one line.
        try FileManager.default.removeItem(atPath: web2.folder.file("var"))
        for log in try FileManager.default.contentsOfDirectory(atPath: web2.examples + "/domlogs") {
            try "".write(toFile: web2.examples + "/domlogs/" + log, atomically: true, encoding: .utf8)
        }
        try "".write(toFile: web2.examples + "/logs/exim_mainlog", atomically: true, encoding: .utf8)
        try LogWriter.append(web2.examples + "/domlogs/www.carolcakes.example", Self.web2Domlog)
        try web2.once()
        try web2.runUntilShipped()
        #expect(web2.daemonLog().contains("fleet: registered as 'web2.example'"))
        for arguments in [["bandwidth", "--by", "day"], ["mail", "--by", "hour"]] {
            #expect(Set(try web1.report(["--host", "web2.example"] + arguments, fleet: true)) == (try web2.localRowsAsFleet(arguments)), "web2 \(arguments)")
            #expect(Set(try web1.report(["--host", "web1.example"] + arguments, fleet: true)) == (try web1.localRowsAsFleet(arguments)), "web1 \(arguments)")
        }
    }

    @Test func keyBytesPostgreSQLWouldRefuseShipEscapedAndShippingGoesOn() throws {
        let pg = try PostgresTestServer.shared
        let url = try pg.freshDatabase()
        let server = try FleetFixture(host: "bytes.example", postgres: url, password: pg.password, batchRows: 10)
        try server.once()
        // Keys no log line should make, written straight into the rollups: a NUL and a byte that
        // is not UTF-8 ("bob\xFF\0"), and a second key that escapes to the same text.
        let local = try DatabaseQueue(path: server.databasePath)
        try local.write { db in
            try db.execute(sql: "INSERT INTO bandwidth_hourly VALUES (CAST(X'626F62FF00' AS TEXT), 'x.example', 'http', 1793577600, 10, 1)")
            try db.execute(sql: "INSERT INTO bandwidth_hourly VALUES ('bob\\xFF\\x00', 'x.example', 'http', 1793577600, 20, 2)")
            // A service's answer is not ours either; a check that did not run has NULL results.
            try db.execute(sql: """
                INSERT INTO service_checks (time, service, status, passed, socket, process, latency_ms, action, detail)
                VALUES (1793577600, 'tailwatch-self', 'up', 0, 0, NULL, NULL, 'none', CAST(X'62616400FF' AS TEXT)),
                       (1793577900, 'tailwatch-self', 'unknown', NULL, NULL, NULL, NULL, 'grace', '')
                """)
        }
        try local.close()
        try server.runUntilShipped()
        let rows = try server.report(["bandwidth", "--domain", "x.example", "--by", "hour"], fleet: true)
        #expect(rows.count == 1)
        #expect(rows.first?["user"] == "bob\\xFF\\x00")
        let connection = try PostgresConnection(url: url, password: pg.password)
        let checks = try connection.query("SELECT passed, socket, latency_ms, detail FROM service_checks WHERE time BETWEEN 1793577600 AND 1793577900 ORDER BY time")
        #expect(checks == [["0", "0", nil, "bad\\x00\\xFF"], [nil, nil, nil, ""]], "NULL stays NULL; bytes PostgreSQL refuses arrive escaped")
        let outages = try server.report(["services", "--history", "--service", "tailwatch-self", "--since", "2026-11-01"], fleet: true)
        #expect(outages.count == 1, "\(outages)")
        #expect(outages.first?["outages"]?.contains("x00") == true, "\(outages)")
        // The example's own rows shipped around them.
        #expect(Set(try server.report(["bandwidth", "--user", "carol", "--by", "day"], fleet: true)) == (try server.localRowsAsFleet(["bandwidth", "--user", "carol", "--by", "day"])))
    }

    @Test func aCounterItsDefinitionRetiredShipsUnderItsNewNameAndTheNewOneStartsClean() throws {
        let pg = try PostgresTestServer.shared
        let url = try pg.freshDatabase()
        let server = try FleetFixture(host: "custom.example", postgres: url, password: pg.password)
        try server.once()
        try server.runUntilShipped()
        #expect(try server.report(["custom", "http_5xx"], fleet: true).count == 3)

        // The counter now counts per vhost only: the daemon retires its table (…_counts_vN) and
        // starts an empty one, which a new line fills before the shipper has seen it.
        let definition = server.examples + "/drivers.d/http_5xx.toml"
        let text = try String(contentsOfFile: definition, encoding: .utf8)
        try text.replacingOccurrences(of: #"by = ["vhost", "status"]"#, with: #"by = ["vhost"]"#).write(toFile: definition, atomically: true, encoding: .utf8)
        try LogWriter.append(server.examples + "/logs/access_log",
                             "bobsbikes.example:443 192.0.2.70 - - [29/Nov/2026:10:00:00 +0000] \"GET /x HTTP/1.1\" 502 100 \"-\" \"m\"\n")
        try server.runUntilShipped()
        let now = Set(try server.report(["custom", "http_5xx"], fleet: true))
        #expect(now == (try server.localRowsAsFleet(["custom", "http_5xx"])))
        #expect(now.count == 1 && now.first?["count"] == "1")

        // PostgreSQL holds each counter table of the server, current and retired, row for row.
        let local = try DatabaseQueue(path: server.databasePath)
        let tables = try local.read { db in try CustomCounterTable.all(db) }
        #expect(tables.map(\.table).contains { $0.hasPrefix("custom_http_5xx_counts_v") }, "\(tables)")
        let connection = try PostgresConnection(url: url, password: pg.password)
        let shippedTables = try connection.query("SELECT DISTINCT counts_table FROM custom_counts ORDER BY 1").compactMap { $0.first ?? nil }
        #expect(shippedTables == tables.map(\.table).sorted())
        for table in tables {
            let keyValues = "json_array(" + table.keys.map { "\"\($0)\"" }.joined(separator: ", ") + ")"
            let mine = try local.read { db in
                try Row.fetchAll(db, sql: "SELECT \(keyValues), bucket, count, sum FROM \"\(table.table)\"").map { row in
                    [row[0] as String, String(row[1] as Int64), String(row[2] as Int64), String(row[3] as Int64)]
                }
            }
            let theirs = try connection.query("SELECT key_values, bucket, count, sum FROM custom_counts WHERE counts_table = $1", [table.table])
                .map { $0.map { $0 ?? "" } }
            #expect(Set(mine) == Set(theirs), "\(table.table)")
            #expect(!mine.isEmpty, "\(table.table)")
        }

        // Lines stay on each server.
        for arguments in [["custom", "sudo_commands", "--lines"], ["custom", "sudo_commands", "--by", "command"]] {
            let lines = try server.run("tailwatch-report", ["--config", server.configPath, "--fleet"] + arguments)
            #expect(lines.code == 2, "\(arguments)")
            #expect(lines.err.contains("not its lines (ask a server without --fleet)"), "\(arguments): \(lines.err)")
        }
    }

    @Test func queueingEverythingInSmallTransactionsCopiesEveryRowOnce() throws {
        let pg = try PostgresTestServer.shared
        let url = try pg.freshDatabase()
        let server = try FleetFixture(host: "requeue.example", postgres: url, password: pg.password)
        try server.once()
        let local = try DatabaseQueue(path: server.databasePath)
        try FleetOutbox.queueEverything(local, followed: FleetFollowedTables.now, chunk: 3)
        try local.read { db in
            #expect(try FleetOutbox.requeuePending(db) == false)
            for table in ShippedTable.all where table.hasSource {
                let keys = table.keys.map(table.sourceColumn).joined(separator: ", ")
                let source = try Row.fetchAll(db, sql: "SELECT \(keys) FROM \(table.name) ORDER BY \(keys)").map { Array($0.databaseValues) }
                let queued = try Row.fetchAll(db, sql: "SELECT \(table.keys.joined(separator: ", ")) FROM \(table.outbox) ORDER BY \(table.keys.joined(separator: ", "))")
                    .map { Array($0.databaseValues) }
                #expect(queued == source, "\(table.name)")
            }
            let counters = try FleetFollowedTables.now(db).map(\.table)
            var rows = 0
            for table in counters { rows += try Int.fetchOne(db, sql: "SELECT count(*) FROM \"\(table)\"") ?? 0 }
            #expect(rows > 0)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM fleet_outbox_custom_counts") == rows)
        }
        #expect(try local.read { db in try FleetOutbox.lag(db, now: 0).rows } > 20)

        // Shipped; then the fleet forgets the host and the requeue for it is cut short after its
        // first transaction (marks and outbox emptied): the next start must queue everything
        // again before shipping, or the fleet stays empty.
        try local.close()
        try server.runUntilShipped()
        let connection = try PostgresConnection(url: url, password: pg.password)
        try FleetWriter(connection: connection, host: server.host).reset()
        let again = try DatabaseQueue(path: server.databasePath)
        try again.write { db in
            try db.execute(sql: "INSERT INTO fleet_requeue (started_at) VALUES (0)")
            try db.execute(sql: "DELETE FROM fleet_marks")
            for table in ShippedTable.all { try db.execute(sql: "DELETE FROM \(table.outbox)") }
        }
        try again.close()
        let status = try server.run("tailwatchd", ["--config", server.configPath, "--status=long"])
        #expect(status.out.contains("queueing every row of this server again"), "\(status.out)")
        try server.runUntilShipped()
        #expect(server.daemonLog().contains("the last attempt was cut short"))
        for arguments in [["bandwidth", "--by", "hour"], ["custom", "sshd_failed"]] {
            #expect(Set(try server.report(arguments, fleet: true)) == (try server.localRowsAsFleet(arguments)), "\(arguments)")
        }
    }

    @Test func aLoginPrunedThenBackInAnotherCaseLeavesNoStaleRowInTheFleet() throws {
        let pg = try PostgresTestServer.shared
        let url = try pg.freshDatabase()
        let server = try FleetFixture(host: "relay.example", postgres: url, password: pg.password)
        try server.once()
        let now = Int64(Date().timeIntervalSince1970)
        let local = try DatabaseQueue(path: server.databasePath)
        try local.write { db in
            try db.execute(sql: "INSERT INTO relay_auth VALUES ('203.0.113.77', 'Bob@bobsbikes.example', 'imap', ?, ?, 1)", arguments: [now - 60, now - 60])
        }
        try server.runUntilShipped()
        // Pruned, and back under another case before anything shipped: relay_auth's user is
        // NOCASE, PostgreSQL's is not, so both the deletion and the new row must go out.
        try local.write { db in
            try db.execute(sql: "DELETE FROM relay_auth WHERE ip = '203.0.113.77'")
            try db.execute(sql: "INSERT INTO relay_auth VALUES ('203.0.113.77', 'bob@bobsbikes.example', 'imap', ?, ?, 1)", arguments: [now - 30, now - 30])
        }
        try local.close()
        try server.runUntilShipped()
        let connection = try PostgresConnection(url: url, password: pg.password)
        let users = try connection.query("SELECT \"user\" FROM relay_auth WHERE ip = '203.0.113.77'").compactMap { $0.first ?? nil }
        #expect(users == ["bob@bobsbikes.example"])
        let fleet = try server.report(["relayhosts"], fleet: true).filter { $0["ip"] == "203.0.113.77" }
        #expect(fleet.count == 1 && fleet.first?["host"] == "relay.example", "\(fleet)")
    }

    @Test func theURLDecidesTLS() throws {
        let pg = try PostgresTestServer.shared
        let url = try pg.freshDatabase()
        for (mode, encrypted) in [("require", true), ("disable", false)] {
            let server = try FleetFixture(host: "tls-\(mode).example", postgres: url + "?sslmode=\(mode)", password: pg.password)
            try server.once()
            try server.runUntilShipped()
            #expect(server.daemonLog().contains("connected to PostgreSQL over TLS") == encrypted, "sslmode=\(mode): \(server.daemonLog())")
            #expect(!(try server.report(["bandwidth"], fleet: true)).isEmpty, "the report connects with sslmode=\(mode) too")
        }
    }

    @Test func aBatchSentAgainOrAnOlderVersionChangesNothing() throws {
        let pg = try PostgresTestServer.shared
        let connection = try PostgresConnection(url: try pg.freshDatabase(), password: pg.password)
        try FleetSchema.migrate(connection)
        try FleetSchema.migrate(connection)  // a second server's start: nothing to do
        let writer = FleetWriter(connection: connection, host: "web9")
        #expect(try writer.register(databaseID: "file-a"))
        #expect(try writer.register(databaseID: "file-a") == false)
        let key = ["bob", "bobsbikes.example", "http", "1793577600"]
        func bytes() throws -> String? {
            try connection.scalar("SELECT bytes FROM bandwidth_hourly WHERE host = 'web9' AND \"user\" = 'bob'")
        }
        let batch = [(ShippedTable.bandwidthHourly, [ShippedRow(version: 5, key: key, values: ["1000", "3"])])]
        try writer.ship(batch, databaseID: "file-a")
        try writer.ship(batch, databaseID: "file-a")
        #expect(try bytes() == "1000")
        try writer.ship([(ShippedTable.bandwidthHourly, [ShippedRow(version: 3, key: key, values: ["400", "1"])])], databaseID: "file-a")
        #expect(try bytes() == "1000", "an older version never overwrites a newer one")
        try writer.ship([(ShippedTable.bandwidthHourly, [ShippedRow(version: 9, key: key, values: ["1500", "4"])])], databaseID: "file-a")
        #expect(try bytes() == "1500")
        try writer.ship([(ShippedTable.bandwidthHourly, [ShippedRow(version: 10, key: key, values: nil)])], databaseID: "file-a")
        #expect(try bytes() == nil, "a row deleted on the server is deleted in the fleet")
        // Another file took the name: the first may not write under it any more.
        #expect(try writer.register(databaseID: "file-b"))
        #expect(throws: PostgresError.self) { try writer.ship(batch, databaseID: "file-a") }
        // A schema from a newer TailWatch is refused, by the shipper and by the report.
        try connection.query("INSERT INTO tailwatch_fleet_schema (version, name, applied_at) VALUES (99, '0099_future', 0)")
        #expect(throws: PostgresError.newerSchema(database: 99, binary: FleetSchema.latestVersion)) { try FleetSchema.migrate(connection) }
    }
}

/// A database restored on either side: the shipper notices that its marks and PostgreSQL's cannot
/// both be right, has the fleet forget the host and ships everything again.
@Suite struct FleetRestoreTests {
    static let reports: [[String]] = [["bandwidth", "--by", "hour"], ["bandwidth", "--by", "month"], ["mail", "--by", "hour"]]

    /// Ships, changes many rows and ships again, then gives `restore` the chance to put one side
    /// back to the first shipment; then new lines, shipping, and the comparison.
    private func shipChangeRestore(_ restore: (FleetFixture, String) throws -> Void) throws {
        let pg = try PostgresTestServer.shared
        let url = try pg.freshDatabase()
        let server = try FleetFixture(host: "restored.example", postgres: url, password: pg.password)
        try server.once()
        try server.runUntilShipped()
        let backup = server.folder.file("backup.sqlite3")
        try FileManager.default.copyItem(atPath: server.databasePath, toPath: backup)
        let dump = server.folder.file("fleet.sql")
        try dumpOrLoad(pg, url, ["pg_dump", "--no-owner", "-f", dump])
        // Many changes, shipped: every bandwidth row rewritten by a generator.
        let fill = try Subprocess.run("/usr/bin/env", [
            "python3", Corpus.projectFolder + "/tools/fill-bandwidth-rows.py", server.databasePath, "20", "2",
            server.folder.file("fill.userdomains"), server.folder.file("fill.limits"),
        ])
        #expect(fill.code == 0, "\(fill.err)")
        try server.runUntilShipped()
        try restore(server, dump)
        try LogWriter.append(server.examples + "/domlogs/bobsbikes.example",
                             "203.0.113.9 - - [02/Nov/2026:10:30:00 +0000] \"GET /after HTTP/1.1\" 200 4242 \"-\" \"Mozilla/5.0\"\n")
        try server.start()
        #expect(eventually(timeout: 30) {
            (try? server.report(["bandwidth", "--user", "bob", "--since", "2026-11-02T10:00:00Z", "--until", "2026-11-02T11:00:00Z"]))?.first?["bytes"] == "4242"
        }, "the line appended after the restore is counted")
        #expect(server.waitShipped(), "\(server.daemonLog())")
        server.stop()
        #expect(server.daemonLog().contains("disagree on what was shipped"))
        for arguments in Self.reports {
            let fleet = Set(try server.report(arguments, fleet: true))
            let local = try server.localRowsAsFleet(arguments)
            #expect(fleet == local, "\(arguments): only in the fleet \(fleet.subtracting(local).prefix(3)), only on the server \(local.subtracting(fleet).prefix(3))")
        }
    }

    private func dumpOrLoad(_ pg: PostgresTestServer, _ url: String, _ command: [String]) throws {
        var environment = ProcessInfo.processInfo.environment
        environment["PGPASSWORD"] = pg.password
        let result = try Subprocess.run("/usr/bin/env", command + ["-d", url], environment: environment)
        #expect(result.code == 0, "\(command[0]): \(result.err)")
    }

    @Test func aServerFileRestoredFromACopyIsShippedAgainWhole() throws {
        try shipChangeRestore { server, _ in
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: server.databasePath + suffix) }
            try FileManager.default.copyItem(atPath: server.folder.file("backup.sqlite3"), toPath: server.databasePath)
        }
    }

    @Test func aFleetDatabaseRestoredFromADumpGetsEveryRowAgain() throws {
        let pg = try PostgresTestServer.shared
        try shipChangeRestore { server, dump in
            // Empty the fleet database's tables, then load the dump of the first shipment.
            try dumpOrLoad(pg, try fleetURL(server), ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                "DROP TABLE fleet_hosts, fleet_marks, tailwatch_fleet_schema, " + ShippedTable.all.map(\.name).joined(separator: ", ")])
            try dumpOrLoad(pg, try fleetURL(server), ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-f", dump])
        }
    }

    private func fleetURL(_ server: FleetFixture) throws -> String {
        let config = try String(contentsOfFile: server.configPath, encoding: .utf8)
        let line = try #require(config.split(separator: "\n").first { $0.hasPrefix("postgres = ") })
        return String(line.dropFirst("postgres = \"".count).dropLast())
    }
}

/// EximStats 0004 rebuilds `mail_hourly` with a new key; the fleet's outbox triggers on it,
/// installed earlier, go on recording its changes.
@Suite struct FleetOutboxUpgradeTests {
    @Test func theOutboxStillRecordsTheRebuiltMailRollup() throws {
        let folder = TemporaryFolder()
        let path = folder.file("db.sqlite3")
        let older = DriverRegistry.migrationSets.map { $0.module == "EximStats" ? $0.upTo(3) : $0 }
        try Store.openWriter(path: path, modules: older + [FleetOutbox.migrations]).close()
        let queue = try Store.openWriter(path: path, modules: DriverRegistry.migrationSets + [FleetOutbox.migrations])
        try queue.write { db in
            try db.execute(sql: "DELETE FROM fleet_outbox_mail_hourly")
            try db.execute(sql: """
                INSERT INTO mail_hourly (user, domain, hour, sent, sent_bytes, delivered, failed, deferred, remote_delivered)
                VALUES ('bob', 'bobsbikes.example', 1793613600, 1, 10, 1, 0, 0, 1)
                """)
        }
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT sent FROM fleet_outbox_mail_hourly WHERE user = 'bob'") } == 1)
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'mail_hourly'") } == 3)
    }
}
