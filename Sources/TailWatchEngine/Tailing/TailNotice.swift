/// Something the tailer noticed about a file that an operator should see in the daemon log.
public enum TailNotice: Sendable, Equatable, CustomStringConvertible {
    case waiting(path: String)
    case appeared(path: String)
    case vanished(path: String)
    case rotated(path: String)
    case truncated(path: String, offset: Int64, size: Int64)
    case resumedInRotated(path: String, rotated: String, offset: Int64)
    /// copytruncate's race: bytes written after the copy and before the truncation.
    case lostInCopyTruncate(path: String, rotated: String, bytes: Int64)
    case readingRotated(path: String, rotated: String)
    /// A writer kept appending to the renamed file past the hold: what it writes there from now on is not read.
    case leftRenamed(path: String, heldSeconds: Int)
    case positionLost(path: String, offset: Int64)
    case readError(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .waiting(let p): "\(p) does not exist yet; waiting for it"
        case .appeared(let p): "\(p) appeared; reading it from the start"
        case .vanished(let p): "\(p) was removed or renamed; finishing the open file and waiting for a new one"
        case .rotated(let p): "\(p) was rotated; finished the old file, following the new one from the start"
        case .truncated(let p, let offset, let size):
            "\(p) was truncated (size \(size) < position \(offset)) and no rotated copy holds the rest; reading from the start, up to \(max(0, offset - size)) bytes written just before the truncation may be missed"
        case .resumedInRotated(let p, let r, let offset): "\(p) was rotated; reading the rest of \(r) from byte \(offset) first"
        case .lostInCopyTruncate(let p, let r, let bytes):
            "\(p) was copied to \(r) and truncated: \(bytes) bytes written to it between the copy and the truncation are in neither file and are lost (copytruncate's race; rename rotation has none)"
        case .readingRotated(let p, let r): "reading \(r), rotated from \(p) while its content was unread"
        case .leftRenamed(let p, let held):
            "\(p) was renamed \(held) s ago and a writer still appends to the old file; following the new \(p) now: lines written to the old file from now on are not read (make the writer reopen its log on rotation)"
        case .positionLost(let p, let offset):
            "the saved position \(offset) of \(p) matches no current or rotated file (replaced, or rotated and compressed); reading \(p) from the start"
        case .readError(let p, let e): "cannot read \(p): errno \(e); will retry"
        }
    }
}
