import Foundation
import TailWatchEngine

/// cPanel's PROCESS field: names joined with `&&` (all must run) and `||` (any one will do), `&&`
/// binding tighter (`a&&b||c` = both a and b, or c).
///
/// A name matches a process whose command name (`comm`), or the file name of its first argument,
/// is that name; a name holding `/` or a space matches a process whose command line contains it.
public struct ProcessPattern: Sendable, Equatable, CustomStringConvertible {
    /// Any of these groups; each group needs all of its names.
    public let alternatives: [[String]]

    /// nil when a name around `&&` or `||` is empty.
    public static func parse(_ text: String) -> ProcessPattern? {
        var groups: [[String]] = []
        for alternative in text.components(separatedBy: "||") {
            let names = alternative.components(separatedBy: "&&").map { $0.trimmingCharacters(in: .whitespaces) }
            guard names.allSatisfy({ !$0.isEmpty }) else { return nil }
            groups.append(names)
        }
        return ProcessPattern(alternatives: groups)
    }

    public var description: String { alternatives.map { $0.joined(separator: "&&") }.joined(separator: "||") }

    /// Whether the processes satisfy the pattern.
    public func isSatisfied(by processes: [ProcessTable.Entry]) -> Bool {
        alternatives.contains { names in names.allSatisfy { name in processes.contains { Self.matches(name, $0) } } }
    }

    static func matches(_ name: String, _ process: ProcessTable.Entry) -> Bool {
        if name.contains("/") || name.contains(" ") { return process.commandLine.contains(name) }
        return process.name == name || process.program == name
    }
}

/// A snapshot of the running processes from `/proc`: pid, real uid, name, command line.
public struct ProcessTable: Sendable {
    public struct Entry: Sendable, Equatable {
        public var pid: Int32
        public var uid: UInt32
        /// `comm` (at most 15 bytes, as the kernel keeps it).
        public var name: String
        /// The file name of argv[0].
        public var program: String
        /// Arguments joined by spaces.
        public var commandLine: String
    }

    public let entries: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries
    }

    /// Reads `/proc` now. Processes that end while being read are skipped.
    public static func snapshot(procRoot: String = "/proc") -> ProcessTable {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: procRoot) else { return ProcessTable(entries: []) }
        var entries: [Entry] = []
        for name in names {
            guard let pid = Int32(name) else { continue }
            let base = procRoot + "/" + name
            guard let status = try? String(contentsOfFile: base + "/status", encoding: .utf8) else { continue }
            var uid: UInt32? = nil
            var comm = ""
            for line in status.split(separator: "\n") {
                if line.hasPrefix("Name:") { comm = line.dropFirst(5).trimmingCharacters(in: .whitespaces) }
                if line.hasPrefix("Uid:") { uid = line.dropFirst(4).split(whereSeparator: { $0 == "\t" || $0 == " " }).first.flatMap { UInt32($0) } }
            }
            guard let uid else { continue }
            let raw = FileBytes.read(base + "/cmdline", limit: 65536) ?? []
            let args = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            let program = args.first.map { ($0 as NSString).lastPathComponent } ?? ""
            entries.append(Entry(pid: pid, uid: uid, name: comm, program: program, commandLine: args.joined(separator: " ")))
        }
        return ProcessTable(entries: entries)
    }

    /// The processes owned by one of `owners` (names or numeric uids); all when `owners` is empty.
    /// Unknown user names own nothing.
    public func owned(by owners: [String]) -> [Entry] {
        guard !owners.isEmpty else { return entries }
        var uids = Set<UInt32>()
        for owner in owners {
            if let uid = UInt32(owner) { uids.insert(uid); continue }
            if let uid = Self.uid(of: owner) { uids.insert(uid) }
        }
        return entries.filter { uids.contains($0.uid) }
    }

    /// The user's uid (`getpwnam_r`: checks run on several threads at once).
    static func uid(of user: String) -> UInt32? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>? = nil
        var buffer = [CChar](repeating: 0, count: 16384)
        let code = getpwnam_r(user, &entry, &buffer, buffer.count, &result)
        guard code == 0, result != nil else { return nil }
        return entry.pw_uid
    }
}
