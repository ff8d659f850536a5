import Foundation
import TailWatchEngine

/// Rewrites `enabled = …` of driver tables for `--enable=` / `--disable=`, keeping every other line
/// (comments included) as it was, and replacing the file atomically.
enum ConfigEditor {
    static func setEnabled(_ changes: [String: Bool], in path: String) throws {
        var lines = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n")
        for (driver, enabled) in changes.sorted(by: { $0.key < $1.key }) {
            let value = "enabled = \(enabled)"
            guard let header = lines.firstIndex(where: { Self.tableName(of: $0) == driver }) else {
                if lines.last == "" { lines.removeLast() }
                lines += ["", "[\(driver)]", value, ""]
                continue
            }
            var index = header + 1
            var replaced = false
            while index < lines.count {
                let trimmed = lines[index].trimmingCharacters(in: .whitespaces)
                if Self.tableName(of: lines[index]) != nil { break }
                if trimmed.hasPrefix("enabled") {
                    let rest = trimmed.dropFirst("enabled".count).trimmingCharacters(in: .whitespaces)
                    if rest.hasPrefix("=") {
                        lines[index] = value
                        replaced = true
                        break
                    }
                }
                index += 1
            }
            if !replaced { lines.insert(value, at: header + 1) }
        }
        let text = lines.joined(separator: "\n")
        _ = try ConfigFile(path: path, text: text) // never write a file we could not read back
        let temporary = path + ".tmp-\(getpid())"
        try text.write(toFile: temporary, atomically: false, encoding: .utf8)
        if let attributes = try? FileManager.default.attributesOfItem(atPath: path), let mode = attributes[.posixPermissions] {
            try? FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: temporary)
        }
        guard rename(temporary, path) == 0 else {
            throw ConfigError(file: path, line: nil, "cannot replace the configuration file: \(String(cString: strerror(errno)))")
        }
    }

    /// The table a `[name]` header line opens (comments and spaces allowed), or nil.
    static func tableName(of line: String) -> String? {
        let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let trimmed = code.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("["), trimmed.hasSuffix("]"), !trimmed.hasPrefix("[[") else { return nil }
        return trimmed.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
    }
}
