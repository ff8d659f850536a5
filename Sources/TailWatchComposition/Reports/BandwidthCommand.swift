import ArgumentParser
import CpBandwd
import Foundation
import GRDB
import TailWatchEngine

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

    @Option(help: ArgumentHelp("Rows per these keys only, comma-separated: user, domain, protocol (and host with --fleet), or none; the rest are summed over and null (e.g. --by day --per protocol).", valueName: "keys"))
    var per: ReportKeys<BandwidthReport.Key>?

    func run() throws { try printReport(parent, format: common.format) }

    func table(_ context: ReportContext) throws -> ReportTable {
        try context.reader.read { db in try table(SQLiteReportRows(db), host: nil) }
    }

    static let answersFromFleet = true

    func fleetTable(_ fleet: FleetContext) throws -> ReportTable { try table(fleet.rows, host: fleet.host) }

    /// One query for both stores; the fleet's rows start with their host.
    private func table(_ source: some ReportRows, host: String?) throws -> ReportTable {
        let (since, until) = try common.range()
        let keys = per?.keys ?? Set(BandwidthReport.Key.allCases)
        if per?.keys.contains(.host) == true && !source.isFleet { throw CommandFailure.usage("--per host needs --fleet (a server's own rows have no host)") }
        let rows = try BandwidthReport.rows(
            source, host: host, user: user, domain: domain?.lowercased(), protocol: proto?.rawValue, by: by, per: keys, since: since, until: until)
        let fleet = source.isFleet
        func key(_ k: BandwidthReport.Key, _ value: String?) -> ReportTable.Cell { keys.contains(k) ? .text(value ?? "") : .null }
        var table = ReportTable(
            columns: (fleet ? ["host"] : []) + ["user", "domain", "protocol", "period", "bytes", "hits"],
            rows: rows.map { r in
                (fleet ? [key(.host, r.host)] : []) + [key(.user, r.user), key(.domain, r.domain), key(.protocol, r.protocol), .time(r.period), .bytes(r.bytes), .integer(r.hits)]
            })
        if rows.count > 1 {
            table.footer = [.text("total")] + (fleet ? [.text("")] : []) + [.text(""), .text(""), .time(nil), .bytes(rows.reduce(0) { $0 + $1.bytes }), .integer(rows.reduce(0) { $0 + $1.hits })]
        }
        return table
    }
}

/// `--per user,protocol` or `--per none`: the keys a report's rows keep (the others summed over).
struct ReportKeys<Key: RawRepresentable & CaseIterable & Hashable>: ExpressibleByArgument where Key.RawValue == String {
    let keys: Set<Key>

    init?(argument: String) {
        var keys: Set<Key> = []
        for word in argument.split(separator: ",", omittingEmptySubsequences: false) where argument != "none" {
            guard let key = Key(rawValue: word.trimmingCharacters(in: .whitespaces)) else { return nil }
            keys.insert(key)
        }
        self.keys = keys
    }
}

extension BandwidthReport.Grouping: ExpressibleByArgument {}
extension BandwidthProtocol: ExpressibleByArgument {}
