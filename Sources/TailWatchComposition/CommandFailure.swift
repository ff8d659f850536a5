import ArgumentParser
import Foundation

/// A failure of a command of either executable, with the exit code the contract gives it.
public enum CommandFailure: Error, CustomStringConvertible {
    /// Exit 2: bad flag, bad input or bad configuration.
    case usage(String)
    /// Exit 1: the action could not be carried out.
    case runtime(String)

    public var description: String {
        switch self {
        case .usage(let m), .runtime(let m): m
        }
    }

    public var exitCode: Int32 {
        switch self {
        case .usage: 2
        case .runtime: 1
        }
    }

    /// Prints `program: message` on standard error as one line and exits with `code`.
    public static func exit(_ program: String, _ message: String, code: Int32) -> Never {
        let line = message.split(separator: "\n").first.map(String.init) ?? message
        FileHandle.standardError.write(Data("\(program): \(line)\n".utf8))
        Foundation.exit(code)
    }

    /// What both executables do with an ArgumentParser error: help and version requests print and
    /// exit 0; anything else is a one-line usage error, exit 2 (not ArgumentParser's 64).
    public static func exitForParseError<C: ParsableCommand>(_ command: C.Type, _ error: any Error, program: String) -> Never {
        if command.exitCode(for: error) == .success {
            print(command.fullMessage(for: error))
            Foundation.exit(0)
        }
        exit(program, command.message(for: error), code: 2)
    }
}

