/// A file that operators and cPanel's tools edit while the daemon runs (userdomains, the bandwidth
/// and sending limits, alwaysrelay), looked at with one `stat` to see whether it must be read again.
///
/// Why one type: four readers each kept their own "stamp" and their own idea of a change. A change
/// is any difference in device, inode, size or modification time, so a rewrite in place, an atomic
/// replacement and a deletion are all seen; what a missing file means stays the reader's decision
/// (userdomains and the bandwidth limits keep what they read; the sending limits and alwaysrelay
/// read an absent file as empty, which lifts every block).
public struct EditedFile: Sendable {
    public enum Look: Sendable, Equatable {
        /// As at the last look.
        case unchanged
        /// Created, replaced or written since the last look: read it again.
        case changed
        /// Gone since the last look (reported once, until it comes back).
        case missing
    }

    public let path: String
    private var stamp: FileIdentity?

    /// `readNow`: the caller reads the file right away, so the first `look()` is `.unchanged`
    /// unless it changes meanwhile. Otherwise nothing is read yet: the first look is `.changed` if
    /// the file exists, `.unchanged` if it does not (an absent file is what the caller has).
    public init(path: String, readNow: Bool) {
        self.path = path
        stamp = readNow ? FileIdentity.of(path: path) : nil
    }

    public mutating func look() -> Look {
        let now = FileIdentity.of(path: path)
        guard now != stamp else { return .unchanged }
        stamp = now
        return now == nil ? .missing : .changed
    }
}
