import ArgumentParser
import EximStats
import Foundation
import GRDB
import TailWatchEngine

/// `tailwatch-report mail [summary|top-senders|limits]`: the per-account summary by default.
struct MailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mail",
        abstract: "Mail sent per account (the default), the top senders, domains at their sending limits, and delivery search.",
        subcommands: [MailSummaryCommand.self, TopSendersCommand.self, MailLimitsCommand.self, MailTraceCommand.self],
        defaultSubcommand: MailSummaryCommand.self)

    @ParentCommand var parent: ReportCommand
}

/// `tailwatch-report mail [--user U] [--domain D] [--by total|hour|day]`.
struct MailSummaryCommand: TableReport {
    static let requiredModules = ["EximStats"]
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

    @Option(help: ArgumentHelp("Rows per these keys only: user (the default), host with --fleet, both (host,user), or none (totals).", valueName: "keys"))
    var per: ReportKeys<MailReport.Key>?

    func run() throws { try printReport(mail.parent, format: common.format) }

    func table(_ context: ReportContext) throws -> ReportTable {
        try context.reader.read { db in try table(SQLiteReportRows(db), host: nil) }
    }

    static let answersFromFleet = true

    func fleetTable(_ fleet: FleetContext) throws -> ReportTable { try table(fleet.rows, host: fleet.host) }

    /// One query for both stores; the fleet's rows start with their host.
    private func table(_ source: some ReportRows, host: String?) throws -> ReportTable {
        let (since, until) = try common.range()
        let keys = per?.keys ?? Set(MailReport.Key.allCases)
        if per?.keys.contains(.host) == true && !source.isFleet { throw CommandFailure.usage("--per host needs --fleet (a server's own rows have no host)") }
        let rows = try MailReport.rows(source, host: host, user: user, domain: domain?.lowercased(), by: by, per: keys, since: since, until: until)
        let fleet = source.isFleet
        var table = ReportTable(
            columns: (fleet ? ["host"] : []) + ["user", "period", "sent", "sent_bytes", "delivered", "failed", "deferred"],
            rows: rows.map { r in
                (fleet ? [keys.contains(.host) ? .text(r.host ?? "") : .null] : []) + [keys.contains(.user) ? .text(r.user) : .null, .time(r.period), .integer(r.sent), .bytes(r.sentBytes), .integer(r.delivered), .integer(r.failed), .integer(r.deferred)]
            })
        if rows.count > 1 {
            table.footer = [.text("total")] + (fleet ? [.text("")] : []) + [.time(nil), .integer(rows.reduce(0) { $0 + $1.sent }), .bytes(rows.reduce(0) { $0 + $1.sentBytes }),
                            .integer(rows.reduce(0) { $0 + $1.delivered }), .integer(rows.reduce(0) { $0 + $1.failed }), .integer(rows.reduce(0) { $0 + $1.deferred })]
        }
        return table
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
struct TopSendersCommand: TableReport {
    static let requiredModules = ["EximStats"]
    static let configuration = CommandConfiguration(
        commandName: "top-senders",
        abstract: "The accounts, domains, authenticated identities and client IPs sending the most messages (default: the last hour).")

    @ParentCommand var mail: MailCommand
    @OptionGroup var common: CommonReportOptions

    @Option(help: "Rows per kind (default 10).")
    var limit: Int = 10

    func validate() throws {
        guard (1...10000).contains(limit) else { throw CommandFailure.usage("--limit must be between 1 and 10000, not \(limit)") }
    }

    func run() throws { try printReport(mail.parent, format: common.format) }

    func table(_ context: ReportContext) throws -> ReportTable {
        let (since, until) = try common.range()
        let now = Int64(Date().timeIntervalSince1970)
        let limits = try sendLimits(context.loaded)
        let rows = try context.reader.read { db in
            try OutbreakReport.topSenders(db, since: since ?? (until ?? now) - 3600, until: until ?? now + 1, limit: limit, sendLimits: limits, now: now)
        }
        return ReportTable(
            columns: ["kind", "name", "messages", "recipients", "failures", "limit", "used"],
            rows: rows.map { r in
                [.text(r.kind), .text(r.name), .integer(r.messages), .integer(r.recipients), .integer(r.failures),
                 r.limit.map { .integer($0) } ?? .text(""), .percent(r.used)]
            })
    }
}

/// `tailwatch-report mail limits`: every domain at or near its limit this hour.
struct MailLimitsCommand: TableReport {
    static let requiredModules = ["EximStats"]
    static let configuration = CommandConfiguration(
        commandName: "limits",
        abstract: "Domains at or near their hourly sending limit or defer/fail share this hour.")

    @ParentCommand var mail: MailCommand

    @Option(help: "Output format: table (default), json or csv.")
    var format: ReportTable.Format = .table

    func run() throws { try printReport(mail.parent, format: format) }

    func table(_ context: ReportContext) throws -> ReportTable {
        let limits = try sendLimits(context.loaded)
        let now = Int64(Date().timeIntervalSince1970)
        let rows = try context.reader.read { db in try OutbreakReport.limits(db, sendLimits: limits, now: now) }
        return ReportTable(
            columns: ["domain", "hour", "deliveries", "limit", "used", "messages", "defer_fail", "defer_fail_share", "status"],
            rows: rows.map { r in
                [.text(r.domain), .time(r.hour), .integer(r.deliveries), r.limit.map { .integer($0) } ?? .text(""), .percent(r.used),
                 .integer(r.messages), .integer(r.deferFail), .percent(r.deferFailPercent), .text(r.status)]
            })
    }
}

/// `tailwatch-report mail trace`: every delivery attempt and rejection matching the filters,
/// newest first (cPanel's "Track Delivery").
struct MailTraceCommand: TableReport {
    static let requiredModules = ["EximStats"]
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Delivery search: one row per delivery attempt or rejection, newest first.",
        discussion: """
            Addresses match without regard to case; --sender and --recipient also take @DOMAIN. \
            Filters combine (all must match). Example: tailwatch-report mail trace --recipient @gmail.com --result failed --since 24h
            """)

    @ParentCommand var mail: MailCommand
    @OptionGroup var common: CommonReportOptions

    @Option(help: ArgumentHelp("The envelope sender, or @DOMAIN for any sender of that domain.", valueName: "ADDR|@DOMAIN"))
    var sender: String?

    @Option(help: ArgumentHelp("The recipient, or @DOMAIN for any recipient of that domain.", valueName: "ADDR|@DOMAIN"))
    var recipient: String?

    @Option(help: "The sending account the message is attributed to.")
    var user: String?

    @Option(help: ArgumentHelp("One message, by exim's id (16 or 23 characters).", valueName: "ID"))
    var msgid: String?

    @Option(help: "delivered, deferred, failed, rejected or all (default).")
    var result: MailTrace.Result = .all

    @Option(help: "Rows at most, newest first (default 250).")
    var limit: Int = 250

    func validate() throws {
        guard (1...100_000).contains(limit) else { throw CommandFailure.usage("--limit must be between 1 and 100000, not \(limit)") }
        for (flag, value) in [("--sender", sender), ("--recipient", recipient)] {
            if let value, value.isEmpty || value == "@" { throw CommandFailure.usage("\(flag) needs an address or @domain") }
        }
        if let msgid, !(msgid.utf8.count == 16 || msgid.utf8.count == 23) || msgid.utf8.contains(where: { !$0.isASCIIAlphanumeric && $0 != 0x2D }) {
            throw CommandFailure.usage("--msgid: '\(msgid)' is not an exim message id (like 1vQx0a-0001Ab-7Q)")
        }
    }

    func run() throws { try printReport(mail.parent, format: common.format) }

    func table(_ context: ReportContext) throws -> ReportTable {
        let (since, until) = try common.range()
        let query = MailTrace.Query(sender: sender, recipient: recipient, user: user, messageID: msgid, result: result,
                                    since: since, until: until, limit: limit)
        let rows = try context.reader.read { db in try MailTrace.rows(db, query) }
        func text(_ s: String?) -> ReportTable.Cell { s.map { .text($0) } ?? .null }
        return ReportTable(
            columns: ["time", "msgid", "sender", "user", "recipient", "result", "transport", "host", "ip", "message", "temporary"],
            rows: rows.map { r in
                [.time(r.time), text(r.messageID), text(r.sender), text(r.user), text(r.recipient), .text(r.result),
                 text(r.transport), text(r.host), text(r.ip), text(r.message), r.temporary.map { .bool($0) } ?? .null]
            })
    }
}

extension MailTrace.Result: ExpressibleByArgument {}

private extension UInt8 {
    var isASCIIAlphanumeric: Bool { (0x30...0x39).contains(self) || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self) }
}
