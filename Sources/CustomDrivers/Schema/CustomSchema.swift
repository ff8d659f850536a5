import Foundation

/// The shape of a custom driver's tables as its definition asks for them, recorded in
/// `custom_driver_schemas` so that reports know the tables and the next start knows what changed.
///
/// Why record it rather than read `PRAGMA table_info` alone: the bucket size of a counter is not
/// visible in the table, and a report must not need the definition file (it may have been edited
/// since the daemon last loaded it).
public struct CustomSchema: Codable, Equatable, Sendable {
    public struct Column: Codable, Equatable, Sendable {
        public let name: String
        public let type: String
    }

    public struct Counter: Codable, Equatable, Sendable {
        public let by: [Column]
        public let bucketSeconds: Int
        public let sum: String?
    }

    /// Columns of the lines table (besides id, at and source); nil when lines are not stored.
    public let lines: [Column]?
    public let counter: Counter?

    init(_ definition: CustomDefinition) {
        let columns = definition.columns.map { Column(name: $0.name, type: $0.type.spelling) }
        lines = definition.storeLines ? columns : nil
        counter = definition.counter.map { spec in
            Counter(by: spec.by.map { columns[$0] }, bucketSeconds: spec.bucketSeconds, sum: spec.sum.map { columns[$0].name })
        }
    }

    init(lines: [Column]?, counter: Counter?) {
        self.lines = lines
        self.counter = counter
    }

    public init(json: String) throws {
        self = try JSONDecoder().decode(CustomSchema.self, from: Data(json.utf8))
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}

/// Quotes an identifier for SQL. Names are validated as lowercase identifiers when a definition is
/// read; quoting as well means no name can ever be read as SQL.
func quoted(_ identifier: String) -> String {
    "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// The SQLite type of a column spelled as in a definition.
func sqlType(ofSpelling spelling: String) -> String {
    ColumnType(spelling: spelling)?.sqlType ?? "TEXT"
}
