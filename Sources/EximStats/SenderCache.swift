/// Who sent each recent message, so a delivery line can be attributed without a database lookup.
///
/// Why two generations: deliveries follow their arrival within seconds to days; keeping the last
/// `generationSize`…2×`generationSize` messages bounds memory (about 100 bytes each) while nearly
/// every delivery is found here. A miss falls back to the `mail_arrivals` table.
struct SenderCache {
    /// `user` and `domain`: ids of the driver's `NameTable`.
    struct Sender: Equatable {
        var user: Int32
        var domain: Int32
        /// The envelope sender as logged (exact bytes); nil when the arrival is not known.
        var address: [UInt8]? = nil
        /// The `mail_names` id of the sender address's domain; 0 for none (ids start at 1).
        var addressDomain: Int64 = 0
    }

    private var current: [MessageKey: Sender] = [:]
    private var previous: [MessageKey: Sender] = [:]
    private let generationSize: Int

    init(generationSize: Int = 40_000) {
        self.generationSize = generationSize
        current.reserveCapacity(generationSize)
    }

    @inline(__always) func sender(of key: MessageKey) -> Sender? {
        current[key] ?? previous[key]
    }

    mutating func removeAll() {
        current = [:]
        previous = [:]
    }

    @inline(__always) mutating func remember(_ sender: Sender, for key: MessageKey) {
        if current.count >= generationSize {
            previous = current
            current = [:]
            current.reserveCapacity(generationSize)
        }
        current[key] = sender
    }
}
