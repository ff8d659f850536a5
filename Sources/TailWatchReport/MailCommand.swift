import ArgumentParser
import EximStats
import Foundation
import GRDB
import TailWatchComposition

/// `tailwatch-report mail [summary|top-senders|limits]`: the per-account summary by default.
struct MailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mail",
        abstract: "Mail sent per account (the default), the top senders, and domains at their sending limits.",
        subcommands: [MailSummaryCommand.self, TopSendersCommand.self, MailLimitsCommand.self],
        defaultSubcommand: MailSummaryCommand.self)

    @ParentCommand var parent: ReportCommand
}

/// `tailwatch-report mail [--user U] [--domain D] [--by total|hour|day]`.
struct MailSummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Messages sent per account, with their bytes, deliveries, failures and deferrals.")

    @ParentCommand var mail: MailCommand
    @OptionGroup var common: CommonReportOptions

    @Option(help: "Only this sending account.")
    var user: String?

    @Option(help: "Only mail sent as this domain.")
    var domain: String?

    @Option(help: "total (default), hour or day (UTC).")
    var by: MailReport.Grouping = .total

    func run() throws {
        let (since, until) = try common.range()
        let (queue, _) = try ReportDatabase.open(configPath: mail.parent.config, requiring: ["EximStats"])
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

/// The `[eximstats]` sending limits as the daemon reads them.
func sendLimits(_ loaded: LoadedConfiguration) throws -> SendLimits {
    let settings: EximStatsSettings
    do {
        settings = try EximStatsSettings(loaded.file.section("eximstats"))
    } catch {
        throw CommandFailure.usage(error.description)
    }
    return SendLimits.load(path: settings.sendLimits, globalMaxPerHour: settings.maxEmailsPerHour)
}

/// `tailwatch-report mail top-senders [--since 1h] [--limit N]`: who sends the most.
struct TopSendersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top-senders",
        abstract: "The accounts, domains, authenticated identities and client IPs sending the most messages (default: the last hour).")

    @ParentCommand var mail: MailCommand
    @OptionGroup var common: CommonReportOptions

    @Option(help: "Rows per kind (default 10).")
    var limit: Int = 10

    func run() throws {
        guard (1...10000).contains(limit) else { throw CommandFailure.usage("--limit must be between 1 and 10000, not \(limit)") }
        let (since, until) = try common.range()
        let now = Int64(Date().timeIntervalSince1970)
        let (queue, loaded) = try ReportDatabase.open(configPath: mail.parent.config, requiring: ["EximStats"])
        let limits = try sendLimits(loaded)
        let rows = try queue.read { db in
            try OutbreakReport.topSenders(db, since: since ?? (until ?? now) - 3600, until: until ?? now + 1, limit: limit, sendLimits: limits, now: now)
        }
        let table = ReportTable(
            columns: ["kind", "name", "messages", "recipients", "failures", "limit", "used"],
            rows: rows.map { r in
                [.text(r.kind), .text(r.name), .integer(r.messages), .integer(r.recipients), .integer(r.failures),
                 r.limit.map { .integer($0) } ?? .text(""), .percent(r.used)]
            })
        print(table.render(common.format), terminator: "")
    }
}

/// `tailwatch-report mail limits`: every domain at or near its limit this hour.
struct MailLimitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "limits",
        abstract: "Domains at or near their hourly sending limit or defer/fail share this hour.")

    @ParentCommand var mail: MailCommand

    @Option(help: "Output format: table (default), json or csv.")
    var format: ReportTable.Format = .table

    func run() throws {
        let (queue, loaded) = try ReportDatabase.open(configPath: mail.parent.config, requiring: ["EximStats"])
        let limits = try sendLimits(loaded)
        let now = Int64(Date().timeIntervalSince1970)
        let rows = try queue.read { db in try OutbreakReport.limits(db, sendLimits: limits, now: now) }
        let table = ReportTable(
            columns: ["domain", "hour", "deliveries", "limit", "used", "messages", "defer_fail", "defer_fail_share", "status"],
            rows: rows.map { r in
                [.text(r.domain), .time(r.hour), .integer(r.deliveries), r.limit.map { .integer($0) } ?? .text(""), .percent(r.used),
                 .integer(r.messages), .integer(r.deferFail), .percent(r.deferFailPercent), .text(r.status)]
            })
        print(table.render(format), terminator: "")
    }
}
