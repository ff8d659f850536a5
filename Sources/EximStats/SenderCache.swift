/// Who sent each recent message, so a delivery line can be attributed without a database lookup.
///
/// Why two generations: deliveries follow their arrival within seconds to days; keeping the last
/// `generationSize`…2×`generationSize` messages bounds memory (a few hundred bytes each) while nearly
/// every delivery is found here. A miss falls back to the `mail_arrivals` table.
///
/// `Sender`: what the holder needs of a message's sender (the apply step keeps its `MessageSender`,
/// the write step what it found in `mail_arrivals`).
struct SenderCache<Sender> {
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
