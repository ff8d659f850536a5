import ArgumentParser
import Foundation
import FleetStore
import GRDB

/// A report that answers with one table: what `tailwatch-report SUBCOMMAND` prints, what
/// `/api/v1/…` returns as JSON, and what the web pages draw.
///
/// Why one protocol for all three: the CLI's flags are the API's query parameters, so a request
/// from either is parsed into the same command value, validated by the same code, and answered by
/// the same query. Nothing about a report is written twice.
public protocol TableReport: ParsableCommand {
    /// Migration modules whose tables the report reads (a database from before them is refused).
    static var requiredModules: [String] { get }
    /// The rows, read through `context`'s reader.
    func table(_ context: ReportContext) throws -> ReportTable
    /// Whether the fleet holds what this report reads (`--fleet` is refused before connecting otherwise).
    static var answersFromFleet: Bool { get }
    /// The rows for every server (or `fleet.host`), from the fleet's PostgreSQL.
    func fleetTable(_ fleet: FleetContext) throws -> ReportTable
}

/// What a `--fleet` report reads: the fleet's PostgreSQL, and the one server asked for, if any.
public struct FleetContext {
    public let rows: FleetReportRows
    public let host: String?
    /// The fleet schema's version: tables added by a later one are missing until a server of
    /// that version has connected.
    public let schemaVersion: Int
    /// The configuration of the server the report runs on (its defaults, such as the relay window).
    public let loaded: LoadedConfiguration

    /// Refuses a report whose tables arrived with fleet schema `version`.
    func require(schema version: Int, for what: String) throws(CommandFailure) {
        guard schemaVersion >= version else {
            throw .runtime("the fleet's PostgreSQL holds no \(what) yet (its schema is at version \(schemaVersion); a server running this TailWatch brings it to \(version) when it connects)")
        }
    }
}

/// What a report reads: a read-only connection to the database and the configuration it belongs to.
public struct ReportContext: Sendable {
    public let reader: any DatabaseReader
    public let loaded: LoadedConfiguration

    public init(reader: any DatabaseReader, loaded: LoadedConfiguration) {
        self.reader = reader
        self.loaded = loaded
    }
}

extension TableReport {
    /// The CLI: open the configured database (or with `--fleet` the fleet's PostgreSQL), answer,
    /// print in `format`.
    func printReport(_ root: ReportCommand, format: ReportTable.Format) throws {
        if root.fleet {
            guard Self.answersFromFleet else { throw Self.notInTheFleet }
            let (connection, version, loaded) = try FleetDatabase.open(configPath: root.config)
            let context = FleetContext(rows: FleetReportRows(connection), host: root.host, schemaVersion: version, loaded: loaded)
            print(try fleetTable(context).render(format), terminator: "")
            return
        }
        let (queue, loaded) = try ReportDatabase.open(configPath: root.config, requiring: Self.requiredModules)
        print(try table(ReportContext(reader: queue, loaded: loaded)).render(format), terminator: "")
    }

    public static var answersFromFleet: Bool { false }

    public func fleetTable(_ fleet: FleetContext) throws -> ReportTable { throw Self.notInTheFleet }

    static var notInTheFleet: CommandFailure {
        .usage("'\(configuration.commandName ?? "this report")' does not answer from the fleet: the fleet holds bandwidth, mail per account and hour, relay logins, services and custom counters (tailwatch-report --fleet bandwidth, mail, relayhosts, services, custom)")
    }
}

/// A report asked for by name and parameters (the web API's path and query string), parsed exactly
/// as the CLI parses `tailwatch-report NAME --KEY=VALUE …`.
public enum ReportRequest {
    /// Parameters the API refuses: they name files on the server or change the output's form.
    static let refusedParameters: Set<String> = ["config", "format", "export", "users-export", "help", "version", "help-hidden"]

    /// `path`: the subcommand words (`["mail", "trace"]`); `arguments`: an operand (a custom
    /// driver's name) or nil; `parameters`: query items in order. `true`/`false` turn a flag on or
    /// leave it off. Every refusal is a one-line `.usage` failure.
    public static func parse(path: [String], operand: String? = nil, parameters: [(name: String, value: String)]) throws(CommandFailure) -> any TableReport {
        var options: [String] = []
        for (name, value) in parameters {
            guard !name.isEmpty, name.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D }), name.first != "-" else {
                throw .usage("unknown parameter '\(ReportTable.printable(name))'")
            }
            guard !refusedParameters.contains(name) else { throw .usage("parameter '\(name)' is not offered over HTTP") }
            switch value {
            case "true": options.append("--\(name)")
            case "false": continue
            default: options.append("--\(name)=\(value)")
            }
        }
        // Options before the operand's `--`, so that a value can never be read as the operand.
        let argv = path + options + (operand.map { ["--", $0] } ?? [])
        let parsed: any ParsableCommand
        do {
            parsed = try ReportCommand.parseAsRoot(argv)
        } catch {
            let message = ReportCommand.message(for: error).split(separator: "\n").first.map(String.init) ?? "bad request"
            throw .usage(message)
        }
        guard let report = parsed as? any TableReport else { throw .usage("'\(path.joined(separator: "/"))' is not a report") }
        return report
    }
}
