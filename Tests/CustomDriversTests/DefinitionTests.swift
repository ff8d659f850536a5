import Foundation
import Testing
import TailWatchEngine
import TestSupport
@testable import CustomDrivers

/// Definitions: the shipped examples load; every mistake and every hostile name is refused with
/// the file, the line and the key, and never reaches SQL.
@Suite struct DefinitionTests {
    @Test func theShippedExamplesLoadWithoutRefusals() {
        let catalog = CustomDriverCatalog.load(folder: CustomHarness.examples + "/drivers.d", reservedNames: ["eximstats"])
        #expect(catalog.refused.isEmpty, "\(catalog.refused)")
        #expect(catalog.definitions.map(\.name) == ["http_5xx", "sshd_failed", "sudo_commands"])
        #expect(catalog.definitions.first { $0.name == "sudo_commands" }?.isExternal == true)
        #expect(catalog.definitions.first { $0.name == "sshd_failed" }?.counter?.bucketSeconds == 300)
    }

    /// Each bad definition beside a good one: the good one still loads, the bad one is refused
    /// with a message naming its file and line.
    @Test(arguments: [
        ("sqlname", "[input]\nfiles = [\"x.log\"]\nregex = '(?<a>.)'\n[columns]\na = \"text\"\nID = \"text\"\n", ":6:", "lowercase"),
        ("reserved", "[input]\nfiles = [\"x.log\"]\nregex = '(?<id>.)'\n[columns]\nid = \"integer\"\n", ":5:", "TailWatch uses itself"),
        ("bykey", "[input]\nfiles = [\"x.log\"]\nregex = '(?<a>.)'\n[columns]\na = \"text\"\n[counter]\nby = [\"a\\\"; DROP TABLE checkpoints; --\"]\n", ":7:", "not a column"),
        ("nocapture", "[input]\nfiles = [\"x.log\"]\nregex = '(?<a>.)'\n[columns]\na = \"text\"\nb = \"integer\"\n", ":3:", "no named capture (?<b>"),
        ("badregex", "[input]\nfiles = [\"x.log\"]\nregex = '(?<a>.'\n[columns]\na = \"text\"\n", ":3:", "does not compile"),
        ("badtype", "[input]\nfiles = [\"x.log\"]\nregex = '(?<a>.)'\n[columns]\na = \"float\"\n", ":5:", "unknown type"),
        ("typo", "[input]\nfiles = [\"x.log\"]\nregexp = '(?<a>.)'\n[columns]\na = \"text\"\n", ":3:", "unknown key 'regexp'"),
        ("nofiles", "[input]\nregex = '(?<a>.)'\n[columns]\na = \"text\"\n", ":1:", "'files' or a 'folder'"),
        ("twoparsers", "[input]\nfiles = [\"x.log\"]\nregex = '(?<a>.)'\nsplit = \" \"\nfields = [\"a\"]\n[columns]\na = \"text\"\n", ":3:", "more than one way"),
        ("sumtext", "[input]\nfiles = [\"x.log\"]\nregex = '(?<a>.)'\n[columns]\na = \"text\"\n[counter]\nsum = \"a\"\n", ":7:", "integer column"),
        ("a_counts", "[input]\nfiles = [\"x.log\"]\nregex = '(?<a>.)'\n[columns]\na = \"text\"\n", "a_counts.toml", "_counts"),
    ])
    func aBadDefinitionIsRefusedWithFileLineAndKey(name: String, toml: String, at: String, message: String) throws {
        let h = try CustomHarness("definition")
        try h.define("good", "[input]\nfiles = [\"x.log\"]\nregex = '(?<a>.)'\n[columns]\na = \"text\"\n")
        let path = try h.define(name, toml)
        let catalog = h.catalog()
        #expect(catalog.definitions.map(\.name) == ["good"])
        #expect(catalog.refused.count == 1)
        let text = catalog.refused.first?.description ?? ""
        #expect(text.hasPrefix(path) || text.hasPrefix((path as NSString).lastPathComponent), "\(text)")
        #expect(text.contains(at) && text.contains(message), "\(text)")
    }

    @Test func aFileNameThatIsNotAnIdentifierAndAStockNameAreRefused() throws {
        let h = try CustomHarness("definition")
        let body = "[input]\nfiles = [\"x.log\"]\nregex = '(?<a>.)'\n[columns]\na = \"text\"\n"
        try h.define("x;drop table checkpoints", body)
        try h.define("eximstats", body)
        try "#!/bin/sh\n".write(toFile: h.driversDir + "/lonely.exec", atomically: false, encoding: .utf8)
        let refused = h.catalog().refused.map(\.description)
        #expect(refused.count == 3)
        #expect(refused.contains { $0.contains("must be lowercase letters") })
        #expect(refused.contains { $0.contains("name of a stock driver") })
        #expect(refused.contains { $0.contains("lonely.exec") && $0.contains("no lonely.toml") })
    }

    @Test func aMissingFolderIsNoDriverAndNoError() {
        let catalog = CustomDriverCatalog.load(folder: "/nonexistent/drivers.d", reservedNames: [])
        #expect(catalog.definitions.isEmpty && catalog.refused.isEmpty)
    }
}
