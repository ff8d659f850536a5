import Foundation
import Testing
import TestSupport

/// Exactly once across the network: the daemon killed with SIGKILL, and PostgreSQL stopped (cleanly
/// and as in a crash), at random moments while batches are in flight, ten times each, with new
/// changes in between; then both run again until the outbox is empty, and the fleet's figures
/// equal the server's own, row for row.
@Suite struct FleetCrashTests {
    @Test func killsAndPostgreSQLStopsDuringShippingLoseAndDoubleNothing() throws {
        let pg = try PostgresTestServer.startPrivate()
        defer {
            try? pg.stop()
            if let folder = pg.folder { try? FileManager.default.removeItem(atPath: folder) }
        }
        // Small batches, so that a shipment takes many round trips and a stop lands inside one.
        let server = try FleetFixture(host: "crash.example", postgres: try pg.freshDatabase(), password: pg.password, batchRows: 20)
        try server.once()
        var random = SeededGenerator(seed: 20261206)
        var appended = 0
        /// New log lines: mail from bob and bytes for bob, in hours the rollups already have.
        func appendLines() throws {
            var mail = "", web = ""
            for _ in 0..<20 {
                let n = appended
                appended += 1
                let hour = 9 + n % 6
                mail += String(format: "2026-11-02 %02d:%02d:%02d 1vS%03d-%06d-Zz <= bob@bobsbikes.example H=(laptop) [203.0.113.5] P=esmtpa A=dovecot_login:bob@bobsbikes.example S=%d id=m%d@laptop from <bob@bobsbikes.example> for ann@example.org\n",
                               hour, n % 60, n % 60, n % 1000, n, 100 + n, n)
                web += String(format: "203.0.113.9 - - [02/Nov/2026:%02d:%02d:00 +0000] \"GET /p%d HTTP/1.1\" 200 %d \"-\" \"Mozilla/5.0\"\n", hour, n % 60, n, 1000 + n)
            }
            try LogWriter.append(server.examples + "/logs/exim_mainlog", mail)
            try LogWriter.append(server.examples + "/domlogs/bobsbikes.example", web)
        }
        /// Rewrites every bandwidth rollup row (delete, then insert, as a generator would): the
        /// whole outbox fills again, some keys as tombstones first.
        func rewriteBandwidth(accounts: Int) throws {
            let result = try Subprocess.run("/usr/bin/env", [
                "python3", Corpus.projectFolder + "/tools/fill-bandwidth-rows.py", server.databasePath, String(accounts), "3",
                server.folder.file("fill.userdomains"), server.folder.file("fill.limits"),
            ])
            #expect(result.code == 0, "fill: \(result.err)")
        }

        // How many kills and stops came while rows were still waiting (a shipment in flight).
        var killedWhileShipping = 0, stoppedWhileShipping = 0
        for round in 0..<10 {
            try rewriteBandwidth(accounts: 60 + round)
            try server.start()
            try appendLines()
            Thread.sleep(forTimeInterval: Double.random(in: 0.02...0.4, using: &random))
            server.kill9()
            if server.unshipped() ?? 0 > 0 { killedWhileShipping += 1 }
        }
        try server.start()
        for round in 0..<10 {
            try rewriteBandwidth(accounts: 70 + round)
            try appendLines()
            Thread.sleep(forTimeInterval: Double.random(in: 0.02...0.3, using: &random))
            if server.unshipped() ?? 0 > 0 { stoppedWhileShipping += 1 }
            try pg.stop(fast: round % 2 == 0)
            try appendLines()
            Thread.sleep(forTimeInterval: Double.random(in: 0.1...0.6, using: &random))
            try pg.restart()
        }
        #expect(server.waitShipped(timeout: 180), "shipped after the last restart: \(server.daemonLog().suffix(2000))")
        server.stop()

        #expect(killedWhileShipping >= 3, "kills during a shipment: \(killedWhileShipping) of 10")
        #expect(stoppedWhileShipping >= 3, "stops during a shipment: \(stoppedWhileShipping) of 10")
        let log = server.daemonLog()
        #expect(log.contains("retrying"), "PostgreSQL's stops were seen by the shipper")
        for arguments in [["bandwidth"], ["bandwidth", "--by", "hour"], ["bandwidth", "--by", "day"], ["bandwidth", "--by", "month"],
                          ["mail"], ["mail", "--by", "hour"], ["services", "--history"], ["custom", "http_5xx", "--by", "status,hour"]] {
            let fleet = Set(try server.report(arguments, fleet: true))
            let local = try server.localRowsAsFleet(arguments)
            #expect(!local.isEmpty)
            #expect(fleet == local, "\(arguments): only in the fleet \(fleet.subtracting(local).prefix(3)), only on the server \(local.subtracting(fleet).prefix(3))")
        }
        let mail = try server.report(["mail", "--user", "bob"])
        #expect(mail.first?["sent"] == String(2 + appended), "every appended arrival counted once on the server")
    }
}
