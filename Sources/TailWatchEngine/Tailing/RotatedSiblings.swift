import Foundation

/// Finds the rotated copies of a log beside it: `exim_mainlog.1`, `exim_mainlog-20261130`,
/// `access.log.2`, oldest first.
///
/// Why only these shapes: after a restart the engine reads the newer rotated copies in full, so a
/// file that merely starts with the log's name (`exim_mainlog.bak`, `exim_mainlog.offset`) must never
/// be taken for one. Compressed copies are not listed here: `CompressedSiblings` reads them, only
/// when a saved position is found nowhere else.
enum RotatedSiblings {
    static func of(_ path: String) -> [(path: String, identity: FileIdentity)] {
        let folder = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder) else { return [] }
        var result: [(path: String, identity: FileIdentity)] = []
        for name in names where isRotatedName(name, of: base) {
            let full = (folder as NSString).appendingPathComponent(name)
            if let identity = FileIdentity.of(path: full) { result.append((full, identity)) }
        }
        return result.sorted { $0.identity.modified < $1.identity.modified }
    }

    static func isRotatedName(_ name: String, of base: String) -> Bool {
        guard name.count > base.count + 1, name.hasPrefix(base) else { return false }
        let suffix = name.dropFirst(base.count)
        guard let separator = suffix.first, separator == "." || separator == "-" || separator == "_" else { return false }
        let rest = suffix.dropFirst()
        guard rest.first?.isNumber == true else { return false }
        return rest.allSatisfy { $0.isASCII && ($0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
            && !rest.hasSuffix(".")
    }

    /// The names `name` would be a rotated copy of (`a.log.1` → `a.log`; `a.log-20261130` → `a.log`).
    static func rotationBases(of name: String) -> [String] {
        var bases: [String] = []
        var index = name.startIndex
        while index < name.endIndex {
            let c = name[index]
            if c == "." || c == "-" || c == "_" {
                let base = String(name[..<index])
                if !base.isEmpty, isRotatedName(name, of: base) { bases.append(base) }
            }
            index = name.index(after: index)
        }
        return bases
    }
}
