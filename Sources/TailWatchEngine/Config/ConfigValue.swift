/// A value from the configuration file, with the line it was written on (for error messages).
public enum ConfigValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case bool(Bool)
    case float(Double)
    case array([ConfigValue])

    var typeName: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .bool: "true or false"
        case .float: "a number"
        case .array: "an array"
        }
    }
}

/// One `key = value` line.
public struct ConfigEntry: Sendable, Equatable {
    public let value: ConfigValue
    public let line: Int
}
