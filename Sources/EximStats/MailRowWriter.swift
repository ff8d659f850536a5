import GRDB
import TailWatchEngine

/// The eximstats driver's write step: turns the events its apply step applied (with the senders it
/// found) into SQLite rows, with every name as its `mail_names` id, and files them in the search blocks.
///
/// Why a type of its own: during a catch-up it runs on whichever thread is free, one piece at a time
/// and in the log's order, while the engine's thread applies the next piece. It is the only part of
/// the driver that touches the database then, and it keeps to itself what it needs: the `mail_names`
/// ids of the apply step's `NameTable` (`learn`), and the senders it looked up in `mail_arrivals`.
/// Unchecked: used by one thread at a time; `PipelinedWalk`'s lock orders its runs.
final class MailRowWriter: @unchecked Sendable {
    let statements: EximStatsWriter
    /// Every name a row holds, as its `mail_names` id.
    let mail: MailNames
    /// The apply step's `NameTable` names by small id, as handed over with each piece (`learn`).
    private var names: [ByteLine] = []
    /// `mail_names` ids of `names`, by small id (0: not looked up yet); forgotten after a failed
    /// commit (a name inserted by that batch is gone).
    @exclusivity(unchecked) private var nameRowIDs: [Int64] = []
    /// Senders of messages the apply step did not know, as found in `mail_arrivals`.
    private var found = SenderCache<FoundSender>()
    /// The sums of the rows written with a `found` sender, for the apply step at the commit.
    private var late: [LateCount] = []

    struct FoundSender {
        var user: String
        var domain: String
        var userID: Int64
        var domainID: Int64
        var address: MessageSender?
        var addressDomain: Int64?
    }

    init(_ db: Database) throws {
        mail = try MailNames(db)
        statements = try EximStatsWriter(db)
    }

    /// Names the apply step's `NameTable` gave the next small ids (in order), before rows using them.
    func learn(_ newNames: [ByteLine]) {
        names += newNames
    }

    /// The apply step's `NameTable` started afresh (between batches), or hands it over whole again
    /// (after a failed batch, whose unwritten pieces took their new names with them).
    func forgetNames() {
        names.removeAll()
        nameRowIDs.removeAll()
    }

    /// The rows of `events` (stored events, in the log's order), each with the sender the apply
    /// step found for it (`senders[k]`; nil for a rejection, or a delivery whose sender is to be
    /// found here).
    func write(_ events: [EximEvent], senders: [MessageSender?]) throws {
        for k in events.indices {
            switch events[k] {
            case .arrival(let a):
                let sender = senders[k]!
                try statements.arrival(a, user: rowID(sender.user), domain: rowID(sender.domain), names: mail)
                sender.addressDomain = try mail.domain(ofAddress: a.sender) ?? 0
            case .delivery(let d, let kind):
                try delivery(d, DeliveryKind(kind), sender: senders[k])
            case .failure(let d):
                try delivery(d, .failed, sender: senders[k])
            case .deferral(let d):
                try delivery(d, .deferred, sender: senders[k])
            case .rejection(let r):
                try statements.reject(r, names: mail)
            case .ignored, .rejected:
                break
            }
        }
    }

    /// The rows of a piece (as `write`), when they may borrow its bytes only until the next piece
    /// is written: rows of earlier pieces still waiting for a multi-row INSERT are written now.
    func write(piece events: [EximEvent], senders: [MessageSender?]) throws {
        statements.beginPiece()
        try write(events, senders: senders)
        try statements.endPiece()
    }

    @inline(__always) private func delivery(_ d: EximDelivery, _ kind: DeliveryKind, sender: MessageSender?) throws {
        if let sender {
            let user = try rowID(sender.user), domain = try rowID(sender.domain)
            let senderDomain = sender.addressDomain == 0 ? nil : sender.addressDomain
            try statements.delivery(d, kind: kind, user: user, domain: domain, sender: sender, senderDomain: senderDomain, names: mail)
        } else {
            let found = try lookUp(d.messageID)
            try statements.delivery(d, kind: kind, user: found.userID, domain: found.domainID, sender: found.address, senderDomain: found.addressDomain, names: mail)
            late.append(LateCount(user: found.user, domain: found.domain, time: d.time, kind: kind, remote: SendLimitEnforcer.isRemoteTransport(d.transport)))
        }
    }

    /// Writes the rows still waiting for a full multi-row INSERT: they borrow the lines' bytes,
    /// so before the caller lets go of them (the end of a block, or of a line ingested alone).
    func writePending() throws {
        try statements.insertPending()
    }

    /// The late sums, handed to the apply step (at the commit) and forgotten here.
    func takeLate() -> [LateCount] {
        defer { late.removeAll(keepingCapacity: true) }
        return late
    }

    /// Senders found before may have a new owner (`moveUnknownRows`): look them up again.
    func forgetFoundSenders() {
        found.removeAll()
    }

    /// After a failed commit: ids of names that batch inserted are gone, and so are its rows.
    func rollback() {
        mail.rollback()
        nameRowIDs.removeAll()
        found.removeAll()
        late.removeAll()
        statements.rollback()
    }

    /// The `mail_names` id of a name of the apply step's `NameTable`, by its small id (an array read).
    @inline(__always) private func rowID(_ name: Int32) throws -> Int64 {
        let i = Int(name)
        if i < nameRowIDs.count, nameRowIDs[i] != 0 { return nameRowIDs[i] }
        let id = try mail.id(names[i])
        if i >= nameRowIDs.count { nameRowIDs += repeatElement(0, count: i + 1 - nameRowIDs.count) }
        nameRowIDs[i] = id
        return id
    }

    /// The sender of a message the apply step did not know: its arrival's row (written earlier in
    /// this batch or committed before), else UNKNOWN.
    private func lookUp(_ messageID: ByteLine) throws -> FoundSender {
        let key = MessageKey(messageID)
        if let known = found.sender(of: key) { return known }
        let sender: FoundSender
        if let row = try statements.sender(of: messageID) {
            let (userID, domainID) = (try mail.id(row.user), try mail.id(row.domain))
            let address = withByteLine(row.address) { MessageSender.make(.none, address: $0) }
            sender = FoundSender(user: row.user, domain: row.domain, userID: userID, domainID: domainID, address: address, addressDomain: try mail.domain(ofAddress: address.address))
        } else {
            sender = FoundSender(user: EximStatsDriver.unknown, domain: "", userID: try mail.id(EximStatsDriver.unknown), domainID: try mail.id(""), address: nil, addressDomain: nil)
        }
        found.remember(sender, for: key)
        return sender
    }
}
