/// An address with a prefix length (`192.0.2.0/24`, `2001:db8::/32`), or one address (`/32`, `/128`).
///
/// Why: operators list their own addresses and always-relay hosts as networks as often as single
/// addresses, and exim's `net-iplsearch` lookups accept both.
public struct IPNetwork: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let address: IPAddress
    public let prefix: Int

    public init(address: IPAddress, prefix: Int? = nil) {
        self.address = address
        self.prefix = prefix ?? (address.family == .v4 ? 32 : 128)
    }

    /// `ADDRESS` or `ADDRESS/BITS`; an IPv4-mapped network (`::ffff:192.0.2.0/120`) becomes IPv4.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(String(parts[0])) else { return nil }
        guard parts.count == 2 else {
            self.init(address: address)
            return
        }
        let digits = parts[1]
        guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ ("0"..."9").contains($0) }),
              digits == "0" || digits.first != "0", let bits = Int(digits) else { return nil }
        let mappedFromV6 = address.family == .v4 && String(parts[0]).contains(":")
        let prefix = mappedFromV6 ? bits - 96 : bits
        guard prefix >= 0, prefix <= (address.family == .v4 ? 32 : 128) else { return nil }
        self.init(address: address, prefix: prefix)
    }

    public var isSingleAddress: Bool { prefix == (address.family == .v4 ? 32 : 128) }

    public func contains(_ other: IPAddress) -> Bool { other.isIn(address, prefix: prefix) }

    public static func < (a: IPNetwork, b: IPNetwork) -> Bool {
        (a.address, a.prefix) < (b.address, b.prefix)
    }

    /// `ADDRESS` for one address, else `ADDRESS/BITS`.
    public var description: String { isSingleAddress ? address.text : "\(address.text)/\(prefix)" }
}
