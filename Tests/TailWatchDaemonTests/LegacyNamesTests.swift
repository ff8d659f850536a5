import Foundation
import Testing
import TailWatchEngine
import TestSupport

/// The four old process names: each says in one line where its work went and fails; the install
/// step puts them in place but never over a real program of that name (exim's own eximstats).
@Suite struct LegacyNamesTests {
    static let tools = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("tools").path

    @Test(arguments: [
        ("eximstats", "tailwatch-report mail"), ("chkservd", "tailwatch-report services"),
        ("antirelayd", "tailwatch-report relayhosts"), ("cpbandwd", "tailwatch-report bandwidth"),
    ])
    func eachOldNameSaysWhereItsWorkWent(_ name: String, _ instead: String) throws {
        let result = try BoundedCommand.run(executable: Self.tools + "/legacy/" + name, arguments: ["--anything"], timeout: 10, outputLimit: 4096)
        #expect(result.exitStatus == 1)
        let lines = result.output.split(separator: "\n")
        #expect(lines.count == 1, "one line: \(result.output)")
        #expect(lines.first?.hasPrefix("\(name): ") == true && result.output.contains("driver of tailwatchd") && result.output.contains(instead))
    }

    @Test func theInstallStepLeavesARealEximstatsAlone() throws {
        let folder = TemporaryFolder("legacy")
        let real = folder.file("bin")
        try FileManager.default.createDirectory(atPath: real, withIntermediateDirectories: true)
        let exim = try folder.write("bin/eximstats", "#!/bin/sh\necho real\n")
        chmod(exim, 0o755)
        let target = folder.file("sbin")
        let result = try BoundedCommand.run(
            executable: "/usr/bin/env", arguments: ["PATH=\(real):/usr/bin:/bin", Self.tools + "/install-legacy-names", target], timeout: 10,
            outputLimit: 4096)
        #expect(result.exitStatus == 0, "\(result.output)")
        #expect(result.output.contains("eximstats: \(exim) exists; left alone"))
        #expect(!FileManager.default.fileExists(atPath: target + "/eximstats"))
        for name in ["chkservd", "antirelayd", "cpbandwd"] {
            #expect(FileManager.default.isExecutableFile(atPath: target + "/" + name))
        }
        #expect(try String(contentsOfFile: exim, encoding: .utf8) == "#!/bin/sh\necho real\n")
    }
}
