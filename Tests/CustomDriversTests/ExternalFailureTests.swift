import Foundation
import Testing
import TailWatchEngine
import TestSupport
@testable import CustomDrivers

/// External programs failing in the ways a review found: a line that kills every fresh program, a
/// program that cannot be started again, absurd values in its answers.
@Suite struct ExternalFailureTests {
    static let definition = """
        [input]
        files = ["app.log"]
        [columns]
        word = "text"
        """

    /// The first line kills every fresh program before it answers anything: nothing tells a
    /// poisonous line from a broken program, so nothing is rejected — its lines wait — and once the
    /// program is fixed every line is stored, once.
    @Test func aProgramThatNeverAnswersHoldsItsLinesUntilItIsFixed() throws {
        let h = try CustomHarness()
        try h.define("app", Self.definition, program: CustomHarness.echoProgram(dyingOn: "POISON"))
        try LogWriter.append(h.folder.file("drivers.d/app.log"), "POISON\nb\nc\n")
        let daemon = h.harness.startDaemon("app", try h.configured("app"))
        usleep(2_500_000)
        #expect(try h.count("SELECT COUNT(*) FROM custom_app") == 0)
        #expect(try h.count("SELECT COUNT(*) FROM rejected_lines") == 0)
        let fixed = CustomHarness.echoProgram(dyingOn: "never")
        try fixed.write(toFile: h.driversDir + "/app.exec.new", atomically: false, encoding: .utf8)
        chmod(h.driversDir + "/app.exec.new", 0o755)
        LogWriter.rename(h.driversDir + "/app.exec.new", h.driversDir + "/app.exec")
        let all = eventually(timeout: 90) { (try? h.count("SELECT COUNT(*) FROM custom_app")) == 3 }
        try daemon.stop()
        #expect(all)
        #expect(try h.rows("SELECT word FROM custom_app ORDER BY id") == [["POISON"], ["b"], ["c"]])
        #expect(try h.count("SELECT COUNT(*) FROM rejected_lines") == 0)
    }

    /// A program that worked and then cannot be started (its file is gone, once): its lines wait —
    /// the one it answered too, whose batch is redone — and none is rejected; once it is back they
    /// are all stored, once.
    @Test func aProgramThatCannotBeStartedAgainHoldsItsLines() throws {
        let h = try CustomHarness()
        let moved = h.folder.file("moved-once")
        let program = """
            #!/bin/sh
            if [ ! -f '\(moved)' ]; then
              IFS= read -r line; echo "{\\"word\\": \\"$line\\"}"
              touch '\(moved)'; mv "$0" "$0.away"; exit 1
            fi
            while IFS= read -r line; do echo "{\\"word\\": \\"$line\\"}"; done
            """
        try h.define("app", Self.definition, program: program)
        let exec = h.driversDir + "/app.exec"
        try LogWriter.append(h.folder.file("drivers.d/app.log"), "a\nb\nc\nd\n")
        let daemon = h.harness.startDaemon("app", try h.configured("app"))
        let gone = eventually(timeout: 20) { FileManager.default.fileExists(atPath: exec + ".away") }
        usleep(800_000)
        #expect(try h.count("SELECT COUNT(*) FROM custom_app") == 0)
        #expect(try h.count("SELECT COUNT(*) FROM rejected_lines") == 0)
        LogWriter.rename(exec + ".away", exec)
        let all = eventually(timeout: 40) { (try? h.count("SELECT COUNT(*) FROM custom_app")) == 4 }
        try daemon.stop()
        #expect(gone && all)
        #expect(try h.rows("SELECT word FROM custom_app ORDER BY id") == [["a"], ["b"], ["c"], ["d"]])
        #expect(try h.count("SELECT COUNT(*) FROM rejected_lines") == 0)
    }

    /// Times outside years 1–9999 and text with NUL in an answer reject the line; never a crash.
    @Test func absurdValuesInAnAnswerRejectTheLine() throws {
        let h = try CustomHarness()
        try h.define("app", """
            [input]
            files = ["app.log"]
            [columns]
            t = "timestamp epoch"
            word = "text"
            [counter]
            by = []
            """, program: """
            #!/bin/sh
            while IFS= read -r line; do
              case "$line" in
                min) echo '{"t": -9223372036854775807}' ;;
                max) echo '{"t": 9.3e18}' ;;
                nul) echo '{"t": 1764493200, "word": "a\\u0000b"}' ;;
                *) echo '{"t": 1764493200, "word": "ok"}' ;;
              esac
            done
            """)
        try LogWriter.append(h.folder.file("drivers.d/app.log"), "min\nmax\nnul\nfine\n")
        try h.runOnce("app")
        #expect(try h.rows("SELECT bucket, count FROM custom_app_counts") == [["1764493200", "1"]])
        #expect(try h.rows("SELECT reason, count FROM rejected_lines ORDER BY reason") == [
            ["column 't' is not a valid timestamp epoch", "2"], ["column 'word' is not a valid text", "1"],
        ])
    }

    /// Names that would meet the module's own tables, or another driver's index, are refused or
    /// cannot meet: `sources` is refused; `foo` and `foo_at` both run.
    @Test func namesThatWouldMeetOtherTablesDoNot() throws {
        let h = try CustomHarness()
        let body = "[input]\nfiles = [\"app.log\"]\nregex = '(?<word>\\w+)'\n[columns]\nword = \"text\"\n"
        for name in ["sources", "driver_schemas", "foo", "foo_at"] { try h.define(name, body) }
        let catalog = h.catalog()
        #expect(catalog.definitions.map(\.name) == ["foo", "foo_at"])
        #expect(catalog.refused.count == 2 && catalog.refusedNames.sorted() == ["driver_schemas", "sources"])
        try LogWriter.append(h.folder.file("drivers.d/app.log"), "x\n")
        try h.runOnce("foo")
        try h.runOnce("foo_at")
        #expect(try h.count("SELECT COUNT(*) FROM custom_foo") == 1)
        #expect(try h.count("SELECT COUNT(*) FROM custom_foo_at") == 1)
        #expect(try h.count("SELECT COUNT(*) FROM custom_sources") == 1)
    }
}
