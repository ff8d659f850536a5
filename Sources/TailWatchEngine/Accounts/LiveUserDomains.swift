import Logging

/// `/etc/userdomains` as it is now, not as it was when the daemon started.
///
/// Why: cPanel's `wwwacct` adds a domain to the file while the daemon runs; read once at start,
/// the new account's mail and bandwidth would be committed as `UNKNOWN`, and commits are exactly
/// once. The drivers look at the file about once a second (a `stat`), re-read it when its inode,
/// size or modification time changed, and move what they wrote as `UNKNOWN` for a domain that now
/// has an owner (`UnknownOwnerRows`).
///
/// A file that is missing or unreadable for a moment (a tool rewriting it) keeps the map read
/// before, with a warning: releasing every account to `UNKNOWN` would be worse than a stale map.
public final class LiveUserDomains {
    public let path: String
    /// The map as last read.
    public private(set) var map: UserDomains
    private var file: EditedFile
    private let logger: Logger

    /// Reads the file; a missing file is an empty map (a server without cPanel), other errors throw.
    public init(path: String, logger: Logger) throws {
        self.path = path
        self.logger = logger
        file = EditedFile(path: path, readNow: true)
        map = try UserDomains.load(path: path)
    }

    /// Re-reads the file when it changed since it was last read; true when the map was replaced.
    @discardableResult
    public func reloadIfChanged() -> Bool {
        switch file.look() {
        case .unchanged:
            return false
        case .missing:
            logger.warning("\(path) is missing; keeping the \(map.domainCount) domains read before")
            return false
        case .changed:
            do {
                let fresh = try UserDomains.load(path: path)
                logger.info("\(path) changed: \(fresh.domainCount) domains (were \(map.domainCount))")
                map = fresh
                return true
            } catch {
                logger.warning("\(path) changed but could not be read (\(error)); keeping the \(map.domainCount) domains read before")
                return false
            }
        }
    }
}
