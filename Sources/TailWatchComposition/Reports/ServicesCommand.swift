import ArgumentParser
import Chkservd
import Foundation
import GRDB
import TailWatchEngine

/// `tailwatch-report services [--service S] [--since T] [--until T]`: the at-a-glance view of
/// what chkservd watches.
struct ServicesCommand: TableReport {
    static let requiredModules = ["Chkservd"]
    static let configuration = CommandConfiguration(
        commandName: "services",
        abstract: "Each checked service: status now, last check, and over the range its checks, failures, restarts and uptime.")

    @ParentCommand var parent: ReportCommand
    @OptionGroup var common: CommonReportOptions

    @Option(help: "Only this service.")
    var service: String?

    @Flag(help: "Uptime over 24 h, 7 days and 30 days, and each outage (start, end, cause, checks, restarts); --since/--until bound the outages (default: 30 days).")
    var history = false

    func run() throws { try printReport(parent, format: common.format) }

    func table(_ context: ReportContext) throws -> ReportTable {
        try context.reader.read { db in try table(SQLiteReportRows(db), host: nil) }
    }

    static let answersFromFleet = true

    func fleetTable(_ fleet: FleetContext) throws -> ReportTable {
        try fleet.require(schema: 2, for: "service checks")
        return try table(fleet.rows, host: fleet.host)
    }

    /// The table from either store; the fleet's rows start with their server.
    private func table(_ source: some ReportRows, host: String?) throws -> ReportTable {
        let (since, until) = try common.range()
        let hostColumn = source.isFleet ? ["host"] : []
        func server(_ name: String?) -> [ReportTable.Cell] { name.map { [.text($0)] } ?? [] }
        if history {
            let now = Int64(Date().timeIntervalSince1970)
            let rows = try ServiceHistory.report(source, host: host, service: service, now: now, since: since, until: until)
            return ReportTable(
                columns: hostColumn + ["service", "status", "uptime_24h", "uptime_7d", "uptime_30d", "outages"],
                rows: rows.map { r in
                    server(r.host) + [.text(r.service), .text(r.status), .percent(r.uptime24h), .percent(r.uptime7d), .percent(r.uptime30d),
                     .nested(ReportTable(
                        columns: ["start", "end", "cause", "checks", "restarts"],
                        rows: r.outages.map { o in [.time(o.start), .time(o.end), .text(o.cause), .integer(o.checks), .integer(o.restarts)] }))]
                })
        }
        let rows = try ServicesReport.rows(source, host: host, service: service, since: since, until: until)
        return ReportTable(
            columns: hostColumn + ["service", "status", "last_check", "checks", "failures", "restarts", "uptime"],
            rows: rows.map { r in
                server(r.host) + [.text(r.service), .text(r.status), .time(r.lastCheck), .integer(r.checks), .integer(r.failures), .integer(r.restarts), .percent(r.uptime)]
            })
    }
}
