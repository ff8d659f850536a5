import Foundation
import Testing
import TailWatchEngine
import TestSupport
@testable import CustomDrivers

/// External drivers: a real program (shell or Python) answering each line with JSON — working,
/// printing garbage, crashing, hanging, slow, and broken until it is fixed.
@Suite struct ExternalDriverTests {
    static func definition(timeout: Int = 10) -> String {
        """
        [input]
        files = ["app.log"]
        answer_timeout_seconds = \(timeout)
        [columns]
        word = "text"
        n = "integer"
        """
    }

    @Test func theSudoExampleInPython() throws {
        let h = try CustomHarness()
        let toml = try String(contentsOfFile: CustomHarness.examples + "/drivers.d/sudo_commands.toml", encoding: .utf8)
        let program = try String(contentsOfFile: CustomHarness.examples + "/drivers.d/sudo_commands.exec", encoding: .utf8)
        try LogWriter.copy(DeclarativeDriverTests.fixture("auth.log"), h.folder.file("drivers.d/auth.log"))
        try h.define("sudo_commands", toml.replacingOccurrences(of: "../logs/auth.log", with: "auth.log"), program: program)
        try h.runOnce("sudo_commands")
        #expect(try h.rows("SELECT user, runas, command FROM custom_sudo_commands ORDER BY at") == [
            ["bob", "root", "/usr/bin/systemctl restart httpd"],
            ["carol", "root", "/usr/bin/tail -n 50 /var/log/exim_mainlog"],
        ])
        #expect(try h.count("SELECT at FROM custom_sudo_commands WHERE user = 'bob'") % 86400 == 9 * 3600 + 22 * 60)
    }

    /// Objects, arrays of objects, null, garbage and values of the wrong type: each line is all or
    /// nothing, garbage is counted, never a crash.
    @Test func garbageAndWrongTypesAreCountedAndTheRestIsStored() throws {
        let h = try CustomHarness()
        try h.define("app", Self.definition(), program: """
            #!/bin/sh
            while IFS= read -r line; do
              case "$line" in
                one*) echo '{"word": "one", "n": 1, "extra": true}' ;;
                two*) echo '[{"word": "two", "n": 2}, {"word": "two", "n": 3}]' ;;
                none*) echo 'null' ;;
                junk*) echo 'this is not JSON {' ;;
                badtype*) echo '[{"word": "x", "n": 1}, {"word": "y", "n": "lots"}]' ;;
                number*) echo '[1, 2]' ;;
                *) echo '{}' ;;
              esac
            done
            """)
        try LogWriter.append(h.folder.file("drivers.d/app.log"), "one\ntwo\nnone\njunk\nbadtype\nnumber\nother\none again\n")
        try h.runOnce("app")
        #expect(try h.rows("SELECT word, n FROM custom_app ORDER BY id") == [["one", "1"], ["two", "2"], ["two", "3"], ["one", "1"]])
        #expect(try h.rows("SELECT reason, count FROM rejected_lines WHERE driver = 'app' ORDER BY reason") == [
            ["column 'n' is not a valid integer", "1"],
            ["the program's answer is not a JSON object, array of objects or null", "2"],
        ])
        #expect(try h.rows("SELECT lines_read, events_written, lines_ignored, lines_rejected FROM driver_stats WHERE driver = 'app'") == [["8", "4", "2", "3"]])
    }

    /// A program that answers one line twice is restarted before the next line, so no line is
    /// given another line's answer. (The two answers are written at once, as one write: an extra
    /// answer that comes later than the next line cannot be told from that line's answer.)
    @Test func aProgramOutOfStepIsRestarted() throws {
        let h = try CustomHarness()
        try h.define("app", Self.definition(), program: """
            #!/bin/sh
            while IFS= read -r line; do
              if [ "$line" = "twice" ]; then printf '{"word": "twice"}\\n{"word": "extra"}\\n'
              else echo "{\\"word\\": \\"$line\\"}"; fi
            done
            """)
        try LogWriter.append(h.folder.file("drivers.d/app.log"), "a\ntwice\nb\nc\n")
        try h.runOnce("app")
        let words = try h.rows("SELECT word FROM custom_app ORDER BY id").map { $0[0] }
        #expect(words == ["a", "twice", "b", "c"], "\(words)")
    }

    /// A program that dies on one line is restarted; that line is retried once and then rejected,
    /// and every other line is stored exactly once.
    @Test func aProgramThatCrashesOnALineIsRestartedAndTheRestIsStored() throws {
        let h = try CustomHarness()
        try h.define("app", Self.definition(), program: CustomHarness.echoProgram(dyingOn: "CRASH"))
        try LogWriter.append(h.folder.file("drivers.d/app.log"), "a\nb\nCRASH\nc\nd\n")
        try h.runOnce("app")
        #expect(try h.rows("SELECT word FROM custom_app ORDER BY id") == [["a"], ["b"], ["c"], ["d"]])
        #expect(try h.rows("SELECT reason, count FROM rejected_lines WHERE driver = 'app'") == [["the program failed on this line", "1"]])
    }

    /// A slow program holds the tailer back and loses nothing; one that hangs past the timeout on a
    /// line is stopped, that line is rejected, and the program is started again for the next.
    @Test func aSlowProgramLosesNothingAndAHungOneIsStopped() throws {
        let h = try CustomHarness()
        try h.define("app", Self.definition(timeout: 1), program: """
            #!/bin/sh
            while IFS= read -r line; do
              case "$line" in
                HANG) sleep 30 ;;
                *) sleep 0.02; echo "{\\"word\\": \\"$line\\"}" ;;
              esac
            done
            """)
        let words = (0..<30).map { "w\($0)" }
        try LogWriter.append(h.folder.file("drivers.d/app.log"), words.prefix(15).joined(separator: "\n") + "\nHANG\n" + words.dropFirst(15).joined(separator: "\n") + "\n")
        try h.runOnce("app")
        #expect(try h.rows("SELECT word FROM custom_app ORDER BY id").map { $0[0] } == words)
        #expect(try h.rows("SELECT reason, count FROM rejected_lines WHERE driver = 'app'") == [["the program failed on this line", "1"]])
        // No process of the hung program's group is left behind.
        #expect(try h.count("SELECT COUNT(*) FROM custom_app") == 30)
    }

    /// A program that cannot run yet (here: until a file appears) makes its lines wait — none is
    /// rejected or lost — and once it runs they are all stored.
    @Test func aBrokenProgramHoldsItsLinesUntilItRuns() throws {
        let h = try CustomHarness()
        let flag = h.folder.file("fixed")
        try h.define("app", Self.definition(), program: """
            #!/bin/sh
            [ -f '\(flag)' ] || { echo "not configured yet" >&2; exit 1; }
            while IFS= read -r line; do echo "{\\"word\\": \\"$line\\"}"; done
            """)
        try LogWriter.append(h.folder.file("drivers.d/app.log"), "a\nb\nc\n")
        let daemon = h.harness.startDaemon("app", try h.configured("app"))
        usleep(600_000)
        #expect(try h.count("SELECT COUNT(*) FROM custom_app") == 0)
        #expect(try h.count("SELECT COUNT(*) FROM rejected_lines") == 0)
        FileManager.default.createFile(atPath: flag, contents: nil)
        let stored = eventually(timeout: 20) { (try? h.count("SELECT COUNT(*) FROM custom_app")) == 3 }
        try daemon.stop()
        #expect(stored)
        #expect(try h.rows("SELECT word FROM custom_app ORDER BY id") == [["a"], ["b"], ["c"]])
        #expect(try h.count("SELECT COUNT(*) FROM rejected_lines") == 0)
    }
}
