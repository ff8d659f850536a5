import TailWatchEngine

/// A failure of a daemon action, with the exit code the contract gives it.
enum DaemonError: Error, CustomStringConvertible {
    /// Exit 2: bad flag or configuration.
    case usage(String)
    /// Exit 1: the action could not be carried out.
    case runtime(String)

    var description: String {
        switch self {
        case .usage(let m), .runtime(let m): m
        }
    }

    var exitCode: Int32 {
        switch self {
        case .usage: 2
        case .runtime: 1
        }
    }
}
