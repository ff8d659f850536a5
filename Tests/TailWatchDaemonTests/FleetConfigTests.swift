import Foundation
import Testing
import TestSupport

/// `[fleet]` mistakes stop the start with one line naming the place; `--fleet` mistakes are usage
/// errors; a fleet database that cannot be reached is a runtime failure that says so.
@Suite struct FleetConfigTests {
    private func line(of prefix: String, in path: String) throws -> Int {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        return try #require(lines.firstIndex { $0.hasPrefix(prefix) }) + 1
    }

    @Test func aPasswordInTheURLIsRefusedWithItsLine() throws {
        let server = try FleetFixture(host: "web1", postgres: "postgres://tailwatch:hunter2@127.0.0.1:5432/fleet", password: "x")
        let run = try server.run("tailwatchd", ["--config", server.configPath, "--once"])
        #expect(run.code == 2)
        #expect(run.err.split(separator: "\n").count == 1, "\(run.err)")
        #expect(run.err.contains("tailwatch.toml:\(try line(of: "postgres = ", in: server.configPath))"), "\(run.err)")
        #expect(run.err.contains("password_file") && !run.err.contains("hunter2"), "the message names the fix, never the password: \(run.err)")
    }

    @Test func aMissingPasswordFileOrABadHostNameIsRefusedWithItsLine() throws {
        let server = try FleetFixture(host: "web1", postgres: "postgres://tailwatch@127.0.0.1:5432/fleet", password: "x")
        try FileManager.default.removeItem(atPath: server.folder.file("fleet.pass"))
        let missing = try server.run("tailwatchd", ["--config", server.configPath, "--once"])
        #expect(missing.code == 2)
        #expect(missing.err.contains("tailwatch.toml:\(try line(of: "password_file = ", in: server.configPath))"), "\(missing.err)")

        let spaced = try FleetFixture(host: "web 1", postgres: "postgres://tailwatch@127.0.0.1:5432/fleet", password: "x")
        let bad = try spaced.run("tailwatchd", ["--config", spaced.configPath, "--once"])
        #expect(bad.code == 2)
        #expect(bad.err.contains("tailwatch.toml:\(try line(of: "host_name = ", in: spaced.configPath))"), "\(bad.err)")
    }

    @Test func fleetFlagsNeedTheirPartners() throws {
        let web = try WebFixture()
        let noFleet = try web.run("tailwatch-report", ["--config", web.configPath, "--fleet", "bandwidth"])
        #expect(noFleet.code == 2)
        #expect(noFleet.err.contains("[fleet]"), "\(noFleet.err)")
        let hostAlone = try web.run("tailwatch-report", ["--config", web.configPath, "--host", "web1", "bandwidth"])
        #expect(hostAlone.code == 2)
        #expect(hostAlone.err.contains("--host needs --fleet"), "\(hostAlone.err)")
    }

    @Test func anUnreachableFleetDatabaseIsARuntimeFailureInOneLine() throws {
        let server = try FleetFixture(host: "web1", postgres: "postgres://tailwatch@127.0.0.1:\(FreePort.next())/fleet", password: "x")
        let run = try server.run("tailwatch-report", ["--config", server.configPath, "--fleet", "mail"])
        #expect(run.code == 1)
        #expect(run.err.split(separator: "\n").count == 1, "\(run.err)")
        #expect(run.err.contains("cannot connect to the fleet's PostgreSQL"), "\(run.err)")
        let relay = try server.run("tailwatch-report", ["--config", server.configPath, "--fleet", "mail", "trace", "--user", "bob"])
        #expect(relay.code == 2, "reports the fleet does not hold are refused before connecting")
    }
}
