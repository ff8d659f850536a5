/// Who sent each recent message, so a delivery line can be attributed without a database lookup.
///
/// Why two generations: deliveries follow their arrival within seconds to days; keeping the last
/// `generationSize`…2×`generationSize` messages bounds memory (about 64 bytes each) while nearly
/// every delivery is found here. A miss falls back to the `mail_arrivals` table.
struct SenderCache {
    /// `user` and `domain`: ids of the driver's `NameTable`. 24 bytes: two hundred thousand of
    /// them are held.
    struct Sender: Equatable {
        var user: Int32
        var domain: Int32
        /// `mail_names` ids of the envelope sender and its domain; 0 for none (ids start at 1).
        private var addressID: Int64 = 0
        private var addressDomain: Int64 = 0

        init(user: Int32, domain: Int32, address: MailNames.Address? = nil) {
            self.user = user
            self.domain = domain
            self.address = address
        }

        /// The envelope sender's ids; nil when the arrival is not known.
        var address: MailNames.Address? {
            get { addressID == 0 ? nil : MailNames.Address(id: addressID, domain: addressDomain == 0 ? nil : addressDomain) }
            set {
                addressID = newValue?.id ?? 0
                addressDomain = newValue?.domain ?? 0
            }
        }
    }

    private var current: [MessageKey: Sender] = [:]
    private var previous: [MessageKey: Sender] = [:]
    private let generationSize: Int

    init(generationSize: Int = 50_000) {
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
