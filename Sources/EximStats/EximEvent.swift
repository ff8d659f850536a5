import TailWatchEngine

/// A message accepted by exim (`<=`). Byte fields borrow the line and die with it.
public struct EximArrival {
    public var time: Int64
    public var messageID: ByteLine
    /// Envelope sender (`<>` for bounces).
    public var sender: ByteLine
    public var size: Int64 = 0
    /// `H=` as logged: name, `(helo)`, without the IP.
    public var host: ByteLine?
    public var ip: ByteLine?
    public var proto: ByteLine?
    /// `A=` value: `authenticator:id[:sender]`.
    public var auth: ByteLine?
    public var localUser: ByteLine?
    public var subject: ByteLine?
    /// The `for` list, space separated.
    public var recipients: ByteLine? {
        didSet { recipientCount = Self.count(recipients) }
    }
    /// How many addresses the `for` list names: counted by the parse, which runs on both threads,
    /// rather than by the write step, which runs on one at a time.
    public private(set) var recipientCount: Int64 = 0

    /// The rest is set field by field (the `for` list through its setter, which counts it).
    public init(time: Int64, messageID: ByteLine, sender: ByteLine) {
        self.time = time
        self.messageID = messageID
        self.sender = sender
    }

    private static func count(_ recipients: ByteLine?) -> Int64 {
        guard let recipients, recipients.count > 0 else { return 0 }
        var n: Int64 = 1
        for i in 0..<recipients.count where recipients[i] == 0x20 { n += 1 }
        return n
    }

    /// The authenticated id (`bob@example.com` in `A=dovecot_login:bob@example.com`).
    public var authID: ByteLine? {
        guard let auth, let colon = auth.firstIndex(of: 0x3A) else { return nil }
        let rest = auth.slice((colon + 1)..<auth.count)
        let end = rest.firstIndex(of: 0x3A) ?? rest.count
        return end > 0 ? rest.slice(0..<end) : nil
    }
}

/// One delivery, failure or deferral of a message to one address.
public struct EximDelivery {
    public var time: Int64
    public var messageID: ByteLine
    public var recipient: ByteLine {
        didSet { recipientKey = SearchKey.address(recipient) }
    }
    /// `recipient`'s key in the search blocks' filters: hashed by the parse, which runs on both
    /// threads, rather than by the write step, which runs on one at a time.
    private(set) var recipientKey: UInt64
    public var router: ByteLine?
    public var transport: ByteLine?
    public var host: ByteLine?
    public var ip: ByteLine?
    /// Failures and deferrals: the error text.
    public var error: ByteLine?

    public init(time: Int64, messageID: ByteLine, recipient: ByteLine) {
        self.time = time
        self.messageID = messageID
        self.recipient = recipient
        recipientKey = SearchKey.address(recipient)
    }
}

/// Mail exim refused: a recipient at RCPT time, a connection or command at SMTP time (no message
/// id exists for those), or a message after DATA (`rejected by local_scan()`, with its id).
public struct EximRejection {
    public var time: Int64
    public var messageID: ByteLine? = nil
    /// A 4xx: "temporarily rejected".
    public var temporary = false
    public var host: ByteLine?
    public var ip: ByteLine?
    public var sender: ByteLine?
    public var recipient: ByteLine?
    /// What exim said: after `rejected RCPT <…>: `, else the sentence from its first word.
    public var reason: ByteLine?
}

/// What a mainlog line means to the eximstats driver.
public enum EximEvent {
    case arrival(EximArrival)
    /// `=>`, `->` or `>>` (the kind tells which).
    case delivery(EximDelivery, EximLineKind)
    case failure(EximDelivery)
    case deferral(EximDelivery)
    case rejection(EximRejection)
    /// A recognised line with nothing to store.
    case ignored(EximLineKind)
    case rejected(EximLineFault)
}

/// What is wrong with a line the parser rejects.
///
/// Why not a `RejectReason` in the event: that holds a `String`, and one reference anywhere in
/// `EximEvent` makes every copy of every event (a few per line, on both parsing threads and the
/// write step) a call that switches on the case and retains; without one, an event is plain
/// bytes and copies as such (`EximLineParserTests` checks that it stays so).
public enum EximLineFault: UInt8, Sendable {
    case notExim, badArrival, badDelivery

    /// The warning's text, as the engine counts and logs it.
    public var reason: RejectReason {
        switch self {
        case .notExim: .notExim
        case .badArrival: .badArrival
        case .badDelivery: .badDelivery
        }
    }
}

extension RejectReason {
    fileprivate static let notExim = RejectReason("not an exim mainlog line (binary or invalid text without a timestamp)")
    fileprivate static let badArrival = RejectReason("'<=' line without a sender")
    fileprivate static let badDelivery = RejectReason("delivery line without an address")
}
