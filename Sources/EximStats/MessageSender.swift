import TailWatchEngine

/// Who sent one message, shared by the rows of its arrival and its deliveries: the account and
/// domain the apply step attributed it to, and the envelope sender's exact bytes with their
/// search key.
///
/// Why the bytes live in the object (one allocation): the write step binds them to a statement it
/// runs later (`SQLITE_STATIC`, several rows at a time), so they must stay where they are for as
/// long as a row holds the sender; and tens of thousands of recent messages' senders are held at
/// once (`SenderCache`). The key is hashed once for all the message's rows.
///
/// Not `Sendable` (no `ManagedBuffer` is): it crosses threads inside a `ParsedPiece` and the write
/// step, which `PipelinedWalk` orders. All but `addressDomain` is set once by `make`;
/// `addressDomain` is set and read by the write step only (when it writes the arrival, before the
/// deliveries it writes after it).
final class MessageSender: ManagedBuffer<MessageSender.Header, UInt8> {
    struct Header {
        /// Ids of the driver's `NameTable`; `Account.none` for an address the write step found
        /// with its account in `mail_arrivals` (`MailRowWriter.FoundSender`).
        let account: Account
        /// The `mail_names` id of the address's domain; 0 for none or not written yet (ids start at 1).
        var addressDomain: Int64
        /// `SearchKey.address` of the bytes.
        let key: UInt64
        let count: Int
    }

    struct Account {
        let user: Int32
        let domain: Int32

        static let none = Account(user: -1, domain: -1)
    }

    static func make(_ account: Account, address: ByteLine) -> MessageSender {
        let buffer = create(minimumCapacity: address.count) { _ in
            Header(account: account, addressDomain: 0, key: SearchKey.address(address), count: address.count)
        }
        let sender = unsafeDowncast(buffer, to: MessageSender.self)
        sender.withUnsafeMutablePointerToElements { $0.initialize(from: address.base, count: address.count) }
        return sender
    }

    // Fields are read and written through pointers to each: the engine's thread reads the
    // account while the write step sets `addressDomain` (different fields, never the same one).
    var user: Int32 { withUnsafeMutablePointerToHeader { $0.pointer(to: \.account.user)!.pointee } }
    var domain: Int32 { withUnsafeMutablePointerToHeader { $0.pointer(to: \.account.domain)!.pointee } }
    var key: UInt64 { withUnsafeMutablePointerToHeader { $0.pointer(to: \.key)!.pointee } }

    var addressDomain: Int64 {
        get { withUnsafeMutablePointerToHeader { $0.pointer(to: \.addressDomain)!.pointee } }
        set { withUnsafeMutablePointerToHeader { $0.pointer(to: \.addressDomain)!.pointee = newValue } }
    }

    /// The address's bytes, which stay where they are for as long as this object lives.
    var address: ByteLine {
        let count = withUnsafeMutablePointerToHeader { $0.pointer(to: \.count)!.pointee }
        return withUnsafeMutablePointerToElements { ByteLine(base: $0, count: count) }
    }
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
