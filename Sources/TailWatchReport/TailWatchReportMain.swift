import ArgumentParser
import TailWatchComposition

/// Entry point of `tailwatch-report`: the commands live in the composition root, where the web
/// API parses the same ones.
public enum TailWatchReportMain {
    public static func main() {
        do {
            var command = try ReportCommand.parseAsRoot(Array(CommandLine.arguments.dropFirst()))
            try command.run()
        } catch let failure as CommandFailure {
            CommandFailure.exit("tailwatch-report", failure.description, code: failure.exitCode)
        } catch {
            CommandFailure.exitForParseError(ReportCommand.self, error, program: "tailwatch-report")
        }
    }
}
