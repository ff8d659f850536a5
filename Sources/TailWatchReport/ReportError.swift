/// A report failure with the contract's exit code: 2 for bad input, 1 for everything else.
enum ReportError: Error, CustomStringConvertible {
    case usage(String)
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
