import Foundation

/// Reads the part of TOML that TailWatch's configuration uses: `[table]` headers, `key = value`
/// lines with strings (basic and literal), integers, booleans, floats and arrays of those (which may
/// span lines), and `#` comments.
///
/// Why not a full TOML library: the configuration needs no more than this, and owning the parser
/// lets every error name the file and line at fault, including the "unknown key" errors the contract
/// asks for. Anything outside the subset (inline tables, dates, multi-line strings, dotted keys) is
/// refused with a message naming the line, never misread.
struct TOMLSubsetParser {
    let file: String
    private let lines: [Substring]
    private var lineIndex = 0

    init(file: String, text: String) {
        self.file = file
        // "\r\n" is one Character in Swift: split on the scalar so CRLF files read line by line.
        self.lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// Tables by name ("" is the top level), each with its entries and the line of its header.
    mutating func parse() throws(ConfigError) -> [String: (line: Int, entries: [String: ConfigEntry])] {
        var tables: [String: (line: Int, entries: [String: ConfigEntry])] = ["": (0, [:])]
        var current = ""
        while lineIndex < lines.count {
            let number = lineIndex + 1
            var rest = Substring(stripComment(lines[lineIndex]))
            lineIndex += 1
            rest = trimmed(rest)
            if rest.isEmpty { continue }
            if rest.hasPrefix("[") {
                guard rest.hasSuffix("]"), !rest.hasPrefix("[[") else {
                    throw ConfigError(file: file, line: number, "a table header must look like [name]")
                }
                let name = String(trimmed(rest.dropFirst().dropLast()))
                guard !name.isEmpty, name.allSatisfy(Self.isBareKeyCharacter) else {
                    throw ConfigError(file: file, line: number, "invalid table name '\(name)'")
                }
                guard tables[name] == nil else {
                    throw ConfigError(file: file, line: number, "table [\(name)] is defined twice")
                }
                tables[name] = (number, [:])
                current = name
                continue
            }
            guard let eq = rest.firstIndex(of: "=") else {
                throw ConfigError(file: file, line: number, "expected 'key = value' or '[table]'")
            }
            let key = String(trimmed(rest[..<eq]))
            guard !key.isEmpty, key.allSatisfy(Self.isBareKeyCharacter) else {
                throw ConfigError(file: file, line: number, "invalid key '\(key)' (use letters, digits, '_' and '-')")
            }
            var valueText = trimmed(rest[rest.index(after: eq)...])
            // Arrays may continue over the following lines until their brackets balance.
            if valueText.hasPrefix("[") {
                var joined = String(valueText)
                while !bracketsBalanced(joined) {
                    guard lineIndex < lines.count else {
                        throw ConfigError(file: file, line: number, "array for '\(key)' is never closed with ']'")
                    }
                    joined += " " + stripComment(lines[lineIndex])
                    lineIndex += 1
                }
                valueText = Substring(joined)
            }
            var cursor = valueText[...]
            let value = try parseValue(&cursor, line: number)
            guard trimmed(cursor).isEmpty else {
                throw ConfigError(file: file, line: number, "unexpected text after the value of '\(key)'")
            }
            guard tables[current]!.entries[key] == nil else {
                throw ConfigError(file: file, line: number, "key '\(key)' is set twice")
            }
            tables[current]!.entries[key] = ConfigEntry(value: value, line: number)
        }
        return tables
    }

    private static func isBareKeyCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == "-")
    }

    private func trimmed(_ s: Substring) -> Substring {
        var s = s
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return s
    }

    /// The line without a trailing `# comment` (a `#` inside a string is kept).
    private func stripComment(_ line: Substring) -> String {
        var result = ""
        var quote: Character? = nil
        var escaped = false
        for c in line {
            if let q = quote {
                if escaped { escaped = false } else if c == "\\" && q == "\"" { escaped = true } else if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "#" {
                break
            }
            result.append(c)
        }
        return result
    }

    private func bracketsBalanced(_ text: String) -> Bool {
        var depth = 0
        var quote: Character? = nil
        var escaped = false
        for c in text {
            if let q = quote {
                if escaped { escaped = false } else if c == "\\" && q == "\"" { escaped = true } else if c == q { quote = nil }
            } else if c == "\"" || c == "'" { quote = c }
            else if c == "[" { depth += 1 }
            else if c == "]" { depth -= 1 }
        }
        return depth <= 0
    }

    private func parseValue(_ s: inout Substring, line: Int) throws(ConfigError) -> ConfigValue {
        s = trimmed(s)
        guard let first = s.first else { throw ConfigError(file: file, line: line, "missing value") }
        switch first {
        case "\"":
            if s.hasPrefix("\"\"\"") { throw ConfigError(file: file, line: line, "multi-line strings are not supported") }
            s.removeFirst()
            var out = ""
            while let c = s.first {
                s.removeFirst()
                if c == "\"" { return .string(out) }
                if c == "\\" {
                    guard let e = s.first else { break }
                    s.removeFirst()
                    switch e {
                    case "\"": out.append("\"")
                    case "\\": out.append("\\")
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "r": out.append("\r")
                    case "u", "U":
                        let width = e == "u" ? 4 : 8
                        let hex = String(s.prefix(width))
                        guard hex.count == width, let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) else {
                            throw ConfigError(file: file, line: line, "invalid \\\(e) escape in a string")
                        }
                        s.removeFirst(width)
                        out.unicodeScalars.append(scalar)
                    default:
                        throw ConfigError(file: file, line: line, "invalid escape '\\\(e)' in a string")
                    }
                } else {
                    out.append(c)
                }
            }
            throw ConfigError(file: file, line: line, "string is never closed with '\"'")
        case "'":
            s.removeFirst()
            guard let end = s.firstIndex(of: "'") else {
                throw ConfigError(file: file, line: line, "string is never closed with \"'\"")
            }
            let out = String(s[..<end])
            s = s[s.index(after: end)...]
            return .string(out)
        case "[":
            s.removeFirst()
            var items: [ConfigValue] = []
            while true {
                s = trimmed(s)
                if s.first == "]" { s.removeFirst(); return .array(items) }
                items.append(try parseValue(&s, line: line))
                s = trimmed(s)
                if s.first == "," { s.removeFirst(); continue }
                if s.first == "]" { s.removeFirst(); return .array(items) }
                throw ConfigError(file: file, line: line, "expected ',' or ']' in an array")
            }
        case "{":
            throw ConfigError(file: file, line: line, "inline tables are not supported; use a [table]")
        default:
            let token = s.prefix { $0 != "," && $0 != "]" && $0 != " " && $0 != "\t" }
            s = s[token.endIndex...]
            switch token {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: break
            }
            let digits = token.replacingOccurrences(of: "_", with: "")
            if let n = Int64(digits) { return .integer(n) }
            if let d = Double(digits), digits.contains(".") { return .float(d) }
            throw ConfigError(file: file, line: line, "cannot read value '\(token)' (strings need quotes)")
        }
    }
}

private extension Substring {
    func replacingOccurrences(of target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
