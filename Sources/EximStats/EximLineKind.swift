/// Every kind of mainlog line the eximstats driver tells apart, so that a run over a log can account
/// for each line: stored, ignored by kind, or rejected with a reason.
public enum EximLineKind: Int, CaseIterable, Sendable, CustomStringConvertible {
    // Stored.
    case arrival            // <=
    case delivery           // =>
    case additionalDelivery // ->
    case cutthroughDelivery // >>
    case failure            // **
    case deferral           // ==
    case rejection          // rejected RCPT, a refused connection or command, a message rejected after DATA
    // Recognised and not stored.
    case suppressedDelivery // *>
    case completed
    case otherMessageLine   // a message id followed by anything else (frozen, DKIM, ...)
    case queueRun           // Start queue run / End queue run
    case otherLine          // a timestamped line without a message id (daemon started, TLS errors, ...)
    case continuation       // no timestamp: the rest of a multi-line entry, or a blank line
    case tooOld             // older than retention_days
    // Rejected.
    case rejected

    public var description: String {
        switch self {
        case .arrival: "<="
        case .delivery: "=>"
        case .additionalDelivery: "->"
        case .cutthroughDelivery: ">>"
        case .failure: "**"
        case .deferral: "=="
        case .rejection: "rejection"
        case .suppressedDelivery: "*>"
        case .completed: "Completed"
        case .otherMessageLine: "other message line"
        case .queueRun: "queue run"
        case .otherLine: "other line"
        case .continuation: "continuation"
        case .tooOld: "older than retention"
        case .rejected: "rejected"
        }
    }
}
