import Foundation
import Testing
@testable import CustomDrivers
import TailWatchEngine

/// PCRE2 is bound at run time from its runtime library; the build needs none of its headers.
@Suite struct PCRE2LibraryTests {
    /// The package root, from this file's path (Tests/CustomDriversTests/ is two folders down).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// No target includes a PCRE2 header or declares PCRE2 as a system library to link: the
    /// project builds where only the runtime library (libpcre2-8-0) is installed. (`.ci/run`
    /// also builds on a machine without libpcre2-dev, which proves the same from the other side.)
    @Test func theBuildIncludesNoPCRE2Header() throws {
        let manifest = try String(contentsOf: Self.packageRoot.appendingPathComponent("Package.swift"), encoding: .utf8)
        #expect(!manifest.contains(".systemLibrary"))
        #expect(!manifest.lowercased().contains("pcre2-8\""))
        let sources = Self.packageRoot.appendingPathComponent("Sources")
        let walker = FileManager.default.enumerator(atPath: sources.path)
        var checked = 0
        while let relative = walker?.nextObject() as? String {
            guard [".h", ".c", ".modulemap", ".swift"].contains(where: relative.hasSuffix) else { continue }
            let text = try String(contentsOfFile: sources.appendingPathComponent(relative).path, encoding: .utf8)
            #expect(!text.contains("#include <pcre2.h>") && !text.contains("import CPCRE2"), "\(relative)")
            checked += 1
        }
        #expect(checked > 100)
    }

    /// The library loads, and the constants declared by hand behave as pcre2.h's: NEVER_UTF
    /// refuses `(*UTF)`, an unset group is told apart, named groups are numbered, JIT is on.
    @Test func theDeclaredABIMatchesTheLibrary() throws {
        guard case .success = PCRE2Library.shared else {
            Issue.record("libpcre2-8.so.0 did not load: \(PCRE2Library.shared)")
            return
        }
        #expect(throws: LineRegex.CompileError.self) { try LineRegex("(*UTF)a", matchLimit: 10_000) }
        let regex = try LineRegex("^(?<a>x)?(?<b>y+)(?<c>z)?$", matchLimit: 10_000)
        #expect(regex.groups == ["a": 1, "b": 2, "c": 3])
        #expect(regex.usesJIT)
        let outcome = withByteLine("yyz") { line -> [String?] in
            guard case .matched = regex.match(line) else { return [] }
            return (1...3).map { g in regex.capture(g, in: line)?.string }
        }
        #expect(outcome == [nil, "yy", "z"])
        guard case .noMatch = withByteLine("q", { regex.match($0) }) else {
            Issue.record("expected no match")
            return
        }
        // Invalid UTF-8 is matched as bytes, not refused.
        let bytes = try LineRegex("^\\xff(?<rest>.*)$", matchLimit: 10_000)
        let raw: [UInt8] = [0xFF, 0x41, 0xC3]
        let rest = raw.withUnsafeBufferPointer { buffer -> [UInt8]? in
            let line = ByteLine(base: buffer.baseAddress!, count: buffer.count)
            guard case .matched = bytes.match(line), let group = bytes.capture(1, in: line) else { return nil }
            return Array(UnsafeBufferPointer(start: group.base, count: group.count))
        }
        #expect(rest == [0x41, 0xC3])
    }
}
