import Glibc
import TailWatchEngine

/// Addresses that must never be whitelisted: loopback, the unspecified address, and the server's
/// own addresses (every address of the local interfaces, and the configured list besides: a proxy
/// on an address this host does not carry, a NAT gateway).
///
/// Why the server's own: mail from the server to itself is relayed by exim's own rules already; a
/// login "from" a local address means a webmail or proxy on this machine, and whitelisting it would
/// open the relay to everything that connects through that proxy.
public struct LocalAddresses: Sendable {
    public let networks: [IPNetwork]

    public init(networks: [IPNetwork]) {
        self.networks = networks
    }

    /// The interfaces' addresses now, and the configured list.
    public init(configured: [IPNetwork]?) {
        self.init(networks: Self.interfaceAddresses().map { IPNetwork(address: $0) } + (configured ?? []))
    }

    public func excludes(_ ip: IPAddress) -> Bool {
        ip.isLoopback || ip.isUnspecified || networks.contains { $0.contains(ip) }
    }

    /// Every IPv4 and IPv6 address configured on a local interface (`getifaddrs`).
    public static func interfaceAddresses() -> [IPAddress] {
        var head: UnsafeMutablePointer<ifaddrs>? = nil
        guard getifaddrs(&head) == 0 else { return [] }
        defer { freeifaddrs(head) }
        var result: [IPAddress] = []
        var cursor = head
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr else { continue }
            switch Int32(address.pointee.sa_family) {
            case AF_INET:
                address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    result.append(IPAddress(v4: UInt32(bigEndian: sin.pointee.sin_addr.s_addr)))
                }
            case AF_INET6:
                address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                    var bytes = sin6.pointee.sin6_addr
                    let (high, low) = withUnsafeBytes(of: &bytes) { raw -> (UInt64, UInt64) in
                        var h: UInt64 = 0, l: UInt64 = 0
                        for k in 0..<8 { h = h << 8 | UInt64(raw[k]) }
                        for k in 8..<16 { l = l << 8 | UInt64(raw[k]) }
                        return (h, l)
                    }
                    result.append(IPAddress(v6: high, low))
                }
            default:
                break
            }
        }
        return Array(Set(result)).sorted()
    }
}
