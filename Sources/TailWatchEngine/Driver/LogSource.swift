/// What a driver asks the engine to tail.
///
/// Why two shapes: exim's mainlog is one known path, while cPanel's domlogs folder gains a file for
/// every new account; the engine re-scans a folder for names matching the pattern.
public enum LogSource: Sendable, Equatable, CustomStringConvertible {
    /// One file; it may be missing at start and is waited for.
    case file(String)
    /// Every file in `folder` whose name matches the shell `pattern` (fnmatch), found again on re-scan.
    case folder(String, pattern: String)

    public var description: String {
        switch self {
        case .file(let path): path
        case .folder(let folder, let pattern): "\(folder)/\(pattern)"
        }
    }
}

/// The file a line came from, as the engine hands it to a driver with every line.
public struct SourceFile: Sendable {
    /// Stable for this run of the engine; cheap to use as a cache key.
    public let id: Int
    /// The path the engine follows (not the rotated name it may be finishing).
    public let path: String
    /// Index into the driver's `sources`.
    public let sourceIndex: Int

    public init(id: Int, path: String, sourceIndex: Int) {
        self.id = id
        self.path = path
        self.sourceIndex = sourceIndex
    }
}
