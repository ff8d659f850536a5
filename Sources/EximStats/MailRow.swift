import TailWatchEngine

/// A row the eximstats driver decided to store: made by its apply step (attribution, the hourly
/// sums, the sending limits; in memory only) and written by `MailRowWriter` (SQLite).
///
/// Why two steps: writing rows is about half of a mainlog's work, and the order of the log matters
/// to both steps. Split so, piece i's rows are written on one core while piece i+1 is applied on the
/// other (`TwoThreadWalk`'s `finish`). Byte fields borrow the block's buffer, which outlives both.
enum MailRow {
    case arrival(EximArrival, MessageSender, ArrivalIDs)
    /// `sender` nil: the message's arrival was not in the apply step's memory; the write step
    /// finds it in `mail_arrivals` (and counts the row's sums for the next commit; `LateCount`).
    case delivery(EximDelivery, DeliveryKind, sender: MessageSender?, DeliveryIDs)
    case rejection(EximRejection)
}

/// What the apply step worked out for an arrival row: its names as ids of its table of row names
/// (-1 for none), and how many recipients its `for` list names.
///
/// Why here and not in the write step: the write step (SQLite) is the longer of the two in-order
/// chains; looking names up in memory is the apply step's, which has time to spare.
struct ArrivalIDs {
    let proto: Int32
    let auth: Int32
    let recipients: Int64
}

/// What the apply step worked out for a delivery row (see `ArrivalIDs`): the recipient's domain,
/// the router, transport, host and IP as `NameTable` ids (-1 for none), and the recipient's search
/// key (`SearchKey.address`).
struct DeliveryIDs {
    let recipientDomain: Int32
    let router: Int32
    let transport: Int32
    let host: Int32
    let ip: Int32
    let recipientKey: UInt64
}

/// Who sent one message, shared by the rows of its arrival and its deliveries.
///
/// Unchecked: `user`, `domain`, `address` and `addressDomainName` are set once by the apply step;
/// `addressDomain` is set and read by the write step only (when it writes the arrival, before the
/// deliveries it writes after it), and the steps hand rows over under `TwoThreadWalk`'s lock.
final class MessageSender: @unchecked Sendable {
    /// Ids of the driver's `NameTable` of accounts and domains.
    let user: Int32
    let domain: Int32
    let address: StoredAddress
    /// The address's domain (after its last `@`) as an id of the driver's table of row names,
    /// valid until the arrival is written; -1 for none.
    let addressDomainName: Int32
    /// Its `mail_names` id, once the arrival is written; 0 for none (ids start at 1).
    var addressDomain: Int64 = 0

    init(user: Int32, domain: Int32, address: ByteLine, addressDomainName: Int32) {
        self.user = user
        self.domain = domain
        self.address = StoredAddress(address)
        self.addressDomainName = addressDomainName
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
