import Foundation
import TailWatchEngine

/// One line's (or one event's) values, a slot per column, converted to the column's type.
///
/// Reused from line to line so the hot path allocates only for what it must keep (an address's
/// canonical text, a repaired string).
struct ColumnValues {
    enum Slot {
        case null
        case integer(Int64)
        /// Valid UTF-8 bytes of the current line, bound without a copy.
        case bytes(ByteLine)
        case text(String)
    }

    let columns: [CustomColumn]
    private(set) var slots: [Slot]
    private var timestamps: TimestampParser

    init(columns: [CustomColumn], zone: TimeZone) {
        self.columns = columns
        slots = Array(repeating: .null, count: columns.count)
        timestamps = TimestampParser(zone: zone)
    }

    /// Stores a captured value; false when it is not of the column's type.
    @inline(__always)
    mutating func set(_ index: Int, bytes raw: ByteLine?) -> Bool {
        guard let raw else {
            slots[index] = .null
            return true
        }
        switch columns[index].type {
        case .text:
            slots[index] = raw.isValidUTF8 ? .bytes(raw) : .text(raw.string)
        case .integer:
            guard let n = Self.integer(raw) else { return false }
            slots[index] = .integer(n)
        case .ip:
            guard let address = IPAddress(raw) else { return false }
            slots[index] = .text(address.text)
        case .timestamp(let format):
            guard let t = timestamps.parse(raw, as: format), Self.times.contains(t) else { return false }
            slots[index] = .integer(t)
        }
        return true
    }

    /// Years 1 to 9999: a time outside is no time (and bucket arithmetic never overflows).
    static let times: ClosedRange<Int64> = -62_135_596_800...253_402_300_799

    /// Stores a value from an external program's JSON event; false when it does not fit the column.
    mutating func set(_ index: Int, json value: JSONValue?) -> Bool {
        switch value {
        case nil, .null?:
            slots[index] = .null
            return true
        case .string(let text)?:
            // A NUL would cut the text short where SQLite reads it; no log line holds one either.
            guard !text.utf8.contains(0) else { return false }
            return withByteLine(text) { set(index, bytes: $0) } && Self.keepCopy(&slots[index], of: text)
        case .integer(let n)?:
            switch columns[index].type {
            case .text: slots[index] = .text(String(n))
            case .integer: slots[index] = .integer(n)
            case .timestamp:
                guard Self.times.contains(n) else { return false }
                slots[index] = .integer(n)
            case .ip: return false
            }
            return true
        case .number(let d)?:
            // A fraction is only tolerated for a time (sub-second precision is dropped).
            guard case .timestamp = columns[index].type, d.isFinite, Self.times.contains(Int64(max(-9.0e18, min(9.0e18, d.rounded(.towardZero))))) else {
                if case .text = columns[index].type { slots[index] = .text(String(d)); return true }
                return false
            }
            slots[index] = .integer(Int64(d.rounded(.towardZero)))
            return true
        case .bool?, .array?, .object?:
            return false
        }
    }

    /// A JSON string's bytes live only inside `withByteLine`: keep a copy instead.
    private static func keepCopy(_ slot: inout Slot, of text: String) -> Bool {
        if case .bytes = slot { slot = .text(text) }
        return true
    }

    func integer(at index: Int) -> Int64? {
        if case .integer(let n) = slots[index] { return n }
        return nil
    }

    /// A signed decimal; `-` alone (web logs' "no body") is 0.
    @inline(__always)
    static func integer(_ raw: ByteLine) -> Int64? {
        if raw.count == 1, raw[0] == 0x2D { return 0 }
        if raw.count > 1, raw[0] == 0x2D { return raw.slice(1..<raw.count).decimalValue.map { -$0 } }
        return raw.decimalValue
    }

    /// The slot as a value for the counter's key (NULL is "", so a missing capture is one key).
    func keyPart(_ index: Int) -> CounterKey.Part {
        switch slots[index] {
        case .null: .text("")
        case .integer(let n): .integer(n)
        case .bytes(let b): .text(b.string)
        case .text(let s): .text(s)
        }
    }

    /// Binds the slot to parameter `parameter` of `statement`.
    @inline(__always)
    func bind(_ index: Int, to statement: PreparedStatement, at parameter: Int32) {
        switch slots[index] {
        case .null: statement.bindNull(parameter)
        case .integer(let n): statement.bind(parameter, n)
        case .bytes(let b): statement.bind(parameter, b)
        case .text(let s): statement.bind(parameter, s)
        }
    }
}

/// A counter's key: the key columns' values and the bucket's start.
struct CounterKey: Hashable {
    enum Part: Hashable {
        case integer(Int64)
        case text(String)
    }
    let parts: [Part]
    let bucket: Int64
}
