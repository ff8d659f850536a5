import ArgumentParser
import CpBandwd
import Foundation
import GRDB

/// `tailwatch-report bandwidth [--user U] [--domain D] [--protocol P] [--by total|hour|day|month]`.
struct BandwidthCommand: TableReport {
    static let requiredModules = ["CpBandwd"]
    static let configuration = CommandConfiguration(
        commandName: "bandwidth",
        abstract: "Bytes served per account, domain and protocol.")

    @ParentCommand var parent: ReportCommand
    @OptionGroup var common: CommonReportOptions

    @Option(help: "Only this account.")
    var user: String?

    @Option(help: "Only this domain.")
    var domain: String?

    @Option(name: .customLong("protocol"), help: "Only http, ftp, imap or pop3.")
    var proto: BandwidthProtocol?

    @Option(help: "total (default), hour, day or month (UTC).")
    var by: BandwidthReport.Grouping = .total

    func run() throws { try printReport(configPath: parent.config, format: common.format) }

    func table(_ context: ReportContext) throws -> ReportTable {
        let (since, until) = try common.range()
        let rows = try context.reader.read { db in
            try BandwidthReport.rows(db, user: user, domain: domain?.lowercased(), protocol: proto?.rawValue, by: by, since: since, until: until)
        }
        var table = ReportTable(
            columns: ["user", "domain", "protocol", "period", "bytes", "hits"],
            rows: rows.map { r in [.text(r.user), .text(r.domain), .text(r.protocol), .time(r.period), .bytes(r.bytes), .integer(r.hits)] })
        if rows.count > 1 {
            table.footer = [.text("total"), .text(""), .text(""), .time(nil), .bytes(rows.reduce(0) { $0 + $1.bytes }), .integer(rows.reduce(0) { $0 + $1.hits })]
        }
        return table
    }
}

extension BandwidthReport.Grouping: ExpressibleByArgument {}
extension BandwidthProtocol: ExpressibleByArgument {}
