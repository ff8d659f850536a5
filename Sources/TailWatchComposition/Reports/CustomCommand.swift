import ArgumentParser
import CustomDrivers
import Foundation
import GRDB

/// `tailwatch-report custom NAME [--by COL,…|PERIOD] [--lines] [--limit N]`: any custom driver's
/// counters or lines, with the columns its definition declared.
struct CustomCommand: TableReport {
    static let requiredModules = ["CustomDrivers"]
    static let configuration = CommandConfiguration(
        commandName: "custom",
        abstract: "What a custom driver (drivers_dir) recorded: its counter per key, counts grouped by any columns, or its lines.",
        discussion: """
            Without --by: the counter per all its keys (a driver without a counter lists its lines).
            --by takes column names and at most one period (bucket, hour, day, month), comma-separated:
            --by ip,hour (a column named like a period is the column). Columns that are the counter's keys are read from the counter; others from the
            stored lines. --lines lists the stored lines, newest first.
            """)

    @ParentCommand var parent: ReportCommand
    @OptionGroup var common: CommonReportOptions

    @Argument(help: "The custom driver's name (its file's name in drivers_dir, without .toml).")
    var name: String

    @Option(help: ArgumentHelp("Group by these columns and/or a period (bucket, hour, day, month), comma-separated.", valueName: "columns"))
    var by: String?

    @Flag(help: "List the stored lines instead of counts.")
    var lines = false

    @Option(help: "At most this many rows.")
    var limit: Int = 1000

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be positive, not \(limit)") }
    }

    func run() throws { try printReport(parent, format: common.format) }

    func table(_ context: ReportContext) throws -> ReportTable {
        let (since, until) = try common.range()
        return try Self.table {
            try context.reader.read { db in
                try CustomReport.run(db, driver: name, by: words, lines: lines, since: since, until: until, limit: limit)
            }
        }
    }

    static let answersFromFleet = true

    /// Every server's counter (rows start with `host`); lines stay on each server.
    func fleetTable(_ fleet: FleetContext) throws -> ReportTable {
        try fleet.require(schema: 3, for: "custom counters")
        let (since, until) = try common.range()
        return try Self.table {
            try CustomReport.fleet(fleet.rows, host: fleet.host, driver: name, by: words, lines: lines, since: since, until: until, limit: limit)
        }
    }

    private var words: [String] {
        (by ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The report's cells as a table; a request its schema cannot answer is a usage error.
    private static func table(_ report: () throws -> CustomReport.Result) throws -> ReportTable {
        let result: CustomReport.Result
        do {
            result = try report()
        } catch let error as CustomReport.RequestError {
            throw CommandFailure.usage(error.description)
        }
        return ReportTable(columns: result.columns, rows: result.rows.map { row in
            row.map { cell -> ReportTable.Cell in
                switch cell {
                case .text(let s): .text(s)
                case .integer(let n): .integer(n)
                case .time(let t): .time(t)
                case .null: .null
                }
            }
        })
    }
}
