import ArgumentParser
import Foundation
import TailWatchComposition
import TailWatchEngine

/// Entry point of `tailwatchd`: parse, validate, run one action, exit with the contract's code.
public enum TailWatchDaemonMain {
    public static let version = "1.0.0"

    public static func main() async {
        let arguments = normalize(Array(CommandLine.arguments.dropFirst()))
        let command: DaemonCommand
        do {
            command = try DaemonCommand.parse(arguments)
        } catch {
            CommandFailure.exitForParseError(DaemonCommand.self, error, program: "tailwatchd")
        }
        let code = await DaemonActions(command: command).run()
        exit(code)
    }

    /// Rewrites cPanel's bare `--status`, `--version` and `--trace` into their `=value` forms.
    static func normalize(_ arguments: [String]) -> [String] {
        arguments.map { argument in
            switch argument {
            case "--status", "-status": "--status=short"
            case "--version", "-version": "--version=short"
            case "--trace", "-trace": "--trace=10000"
            case "-help": "--help"
            default: argument
            }
        }
    }
}
