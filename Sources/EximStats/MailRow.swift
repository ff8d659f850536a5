import TailWatchEngine

/// A row the eximstats driver decided to store: made by its apply step (attribution, the hourly
/// sums, the sending limits; in memory only) and written by `MailRowWriter` (SQLite).
///
/// Why two steps: writing rows is about half of a mainlog's work, and the order of the log matters
/// to both steps. Split so, piece i's rows are written on one core while piece i+1 is applied on the
/// other (`TwoThreadWalk`'s `finish`). Byte fields borrow the block's buffer, which outlives both.
enum MailRow {
    case arrival(EximArrival, MessageSender)
    /// `sender` nil: the message's arrival was not in the apply step's memory; the write step
    /// finds it in `mail_arrivals` (and counts the row's sums for the next commit; `LateCount`).
    case delivery(EximDelivery, DeliveryKind, sender: MessageSender?)
    case rejection(EximRejection)
}

/// Who sent one message, shared by the rows of its arrival and its deliveries.
///
/// Unchecked: `user`, `domain` and `address` are set once by the apply step; `addressDomain` is
/// set and read by the write step only (when it writes the arrival, before the deliveries it
/// writes after it), and the steps hand rows over under `TwoThreadWalk`'s lock.
final class MessageSender: @unchecked Sendable {
    /// Ids of the driver's `NameTable`.
    let user: Int32
    let domain: Int32
    let address: StoredAddress
    /// The `mail_names` id of the address's domain; 0 for none or not written yet (ids start at 1).
    var addressDomain: Int64 = 0

    init(user: Int32, domain: Int32, address: ByteLine) {
        self.user = user
        self.domain = domain
        self.address = StoredAddress(address)
    }
}

/// An envelope sender's exact bytes at a place of their own, and its search key.
///
/// Why not `[UInt8]`: the write step binds the bytes to a statement it runs later (`SQLITE_STATIC`,
/// several rows at a time), so they must stay where they are for as long as a row holds this.
/// The key is hashed once for all the message's rows.
final class StoredAddress: @unchecked Sendable {
    // Unchecked: immutable after init.
    let line: ByteLine
    /// `SearchKey.address` of the bytes.
    let key: UInt64

    init(_ bytes: ByteLine) {
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, bytes.count))
        storage.initialize(from: bytes.base, count: bytes.count)
        line = ByteLine(base: storage, count: bytes.count)
        key = SearchKey.address(bytes)
    }

    deinit { UnsafeMutablePointer(mutating: line.base).deallocate() }
}

/// The sums of a delivery row whose sender only the write step found (in `mail_arrivals`): added
/// to the hourly sums and the sending limits at the commit, by name.
struct LateCount {
    var user: String
    var domain: String
    var time: Int64
    var kind: DeliveryKind
    var remote: Bool
}
