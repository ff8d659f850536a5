import ArgumentParser
import Foundation
import GRDB
import TailWatchEngine

/// `tailwatch-report [--config PATH] [--fleet [--host H]] SUBCOMMAND [--since T] [--until T] [--format table|json|csv]`.
public struct ReportCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "tailwatch-report",
        abstract: "Query what tailwatchd recorded.",
        discussion: "Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error. An unknown user or domain is an empty result.",
        subcommands: [MailCommand.self, BandwidthCommand.self, RelayHostsCommand.self, ServicesCommand.self, CustomCommand.self])

    @Option(help: ArgumentHelp("Configuration file (default: $TAILWATCH_CONFIG, else /etc/tailwatch/tailwatch.toml).", valueName: "path"))
    var config: String?

    @Flag(help: "Answer for every server from the fleet's PostgreSQL ([fleet] in the configuration); rows gain a host.")
    var fleet = false

    @Option(help: ArgumentHelp("With --fleet: only this server (its [fleet] host_name).", valueName: "H"))
    var host: String?

    public func validate() throws {
        if host != nil && !fleet { throw ValidationError("--host needs --fleet (without it, the report is this server's own)") }
    }
}

/// Options every report takes.
struct CommonReportOptions: ParsableArguments {
    @Option(help: ArgumentHelp("From this time on: 2026-11-01, 2026-11-01T10:00:00Z, or 90m / 24h / 7d back from now.", valueName: "T"))
    var since: String?

    @Option(help: ArgumentHelp("Before this time (same forms as --since).", valueName: "T"))
    var until: String?

    @Option(help: "Output format: table (default), json or csv.")
    var format: ReportTable.Format = .table

    func range() throws -> (since: Int64?, until: Int64?) {
        let now = Date()
        let s = try since.map { try TimeSpec.parse($0, now: now).mapError { CommandFailure.usage("--since: \($0)") }.get() }
        let u = try until.map { try TimeSpec.parse($0, now: now).mapError { CommandFailure.usage("--until: \($0)") }.get() }
        if let s, let u, s >= u { throw CommandFailure.usage("--since must be before --until") }
        return (s, u)
    }
}

extension ReportTable.Format: ExpressibleByArgument {}
