import ArgumentParser
import EximStats
import Foundation
import GRDB

/// `tailwatch-report mail [--user U] [--domain D] [--by total|hour|day]`.
struct MailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mail",
        abstract: "Messages sent per account, with their bytes, deliveries, failures and deferrals.")

    @ParentCommand var parent: ReportCommand
    @OptionGroup var common: CommonReportOptions

    @Option(help: "Only this sending account.")
    var user: String?

    @Option(help: "Only mail sent as this domain.")
    var domain: String?

    @Option(help: "total (default), hour or day (UTC).")
    var by: MailReport.Grouping = .total

    func run() throws {
        let (since, until) = try common.range()
        let (queue, _) = try openReportDatabase(configPath: parent.config, requiring: ["EximStats"])
        let rows = try queue.read { db in
            try MailReport.rows(db, user: user, domain: domain?.lowercased(), by: by, since: since, until: until)
        }
        var table = ReportTable(
            columns: ["user", "period", "sent", "sent_bytes", "delivered", "failed", "deferred"],
            rows: rows.map { r in
                [.text(r.user), .time(r.period), .integer(r.sent), .bytes(r.sentBytes), .integer(r.delivered), .integer(r.failed), .integer(r.deferred)]
            })
        if rows.count > 1 {
            table.footer = [.text("total"), .time(nil), .integer(rows.reduce(0) { $0 + $1.sent }), .bytes(rows.reduce(0) { $0 + $1.sentBytes }),
                            .integer(rows.reduce(0) { $0 + $1.delivered }), .integer(rows.reduce(0) { $0 + $1.failed }), .integer(rows.reduce(0) { $0 + $1.deferred })]
        }
        print(table.render(common.format), terminator: "")
    }
}

extension MailReport.Grouping: ExpressibleByArgument {}
