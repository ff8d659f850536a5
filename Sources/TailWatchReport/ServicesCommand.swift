import ArgumentParser
import Chkservd
import Foundation
import GRDB
import TailWatchComposition

/// `tailwatch-report services [--service S] [--since T] [--until T]`: the at-a-glance view of
/// what chkservd watches.
struct ServicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "services",
        abstract: "Each checked service: status now, last check, and over the range its checks, failures, restarts and uptime.")

    @ParentCommand var parent: ReportCommand
    @OptionGroup var common: CommonReportOptions

    @Option(help: "Only this service.")
    var service: String?

    func run() throws {
        let (since, until) = try common.range()
        let (queue, _) = try ReportDatabase.open(configPath: parent.config, requiring: ["Chkservd"])
        let rows = try queue.read { db in try ServicesReport.rows(db, service: service, since: since, until: until) }
        let table = ReportTable(
            columns: ["service", "status", "last_check", "checks", "failures", "restarts", "uptime"],
            rows: rows.map { r in
                [.text(r.service), .text(r.status), .time(r.lastCheck), .integer(r.checks), .integer(r.failures), .integer(r.restarts), .percent(r.uptime)]
            })
        print(table.render(common.format), terminator: "")
    }
}
