import Testing
import TailWatchEngine

/// Addresses are compared and exported as text, so each must have exactly one spelling.
@Suite struct IPAddressTests {
    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("::FFFF:C000:0201", "192.0.2.1"),
        ("2001:DB8:0:0:0:0:2:1", "2001:db8::2:1"),
        ("2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"), // one zero group is not shortened
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"), // the longest run
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), // the first of equal runs
        ("::1", "::1"),
        ("::", "::"),
        ("1::", "1::"),
        ("fe80::1:2", "fe80::1:2"),
        ("::192.0.2.1", "::c000:201"), // IPv4-compatible is not IPv4-mapped
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
    ])
    func canonicalText(_ input: String, _ expected: String) throws {
        let ip = try #require(IPAddress(input))
        #expect(ip.text == expected)
        #expect(IPAddress(ip.text) == ip, "the canonical text reads back as the same address")
    }

    @Test(arguments: [
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.04", "1.2.3.4 ", " 1.2.3.4", "1..2.3",
        "fe80::1%eth0", "1:2:3:4:5:6:7:8:9", "1::2::3", ":1::", "1:", "12345::", "::ffff:1.2.3.4.5",
        "1:2:3:4:5:6:7::8", "g::1", "::ffff:1.2.3", "1.2.3.4::", "[::1]", "::1]", "1.2.3.4:25",
    ])
    func rejects(_ input: String) {
        #expect(IPAddress(input) == nil)
    }

    @Test func classesAndNetworks() throws {
        #expect(IPAddress("127.8.9.10")!.isLoopback)
        #expect(IPAddress("::1")!.isLoopback)
        #expect(IPAddress("::ffff:127.0.0.1")!.isLoopback)
        #expect(!IPAddress("128.0.0.1")!.isLoopback)
        #expect(IPAddress("0.0.0.0")!.isUnspecified && IPAddress("::")!.isUnspecified)
        let v4 = try #require(IPNetwork("192.0.2.0/24"))
        #expect(v4.contains(IPAddress("192.0.2.255")!) && !v4.contains(IPAddress("192.0.3.0")!))
        #expect(!v4.contains(IPAddress("::ffff:c000:300")!))
        let v6 = try #require(IPNetwork("2001:db8::/33"))
        #expect(v6.contains(IPAddress("2001:db8:7fff::1")!) && !v6.contains(IPAddress("2001:db8:8000::1")!))
        let deep = try #require(IPNetwork("2001:db8::1:0/112"))
        #expect(deep.contains(IPAddress("2001:db8::1:ffff")!) && !deep.contains(IPAddress("2001:db8::2:0")!))
        #expect(IPNetwork("::ffff:192.0.2.0/120")?.description == "192.0.2.0/24")
        #expect(IPNetwork("192.0.2.1")?.description == "192.0.2.1")
        #expect(IPNetwork("192.0.2.0/33") == nil && IPNetwork("192.0.2.0/") == nil && IPNetwork("x/8") == nil)
        #expect(IPNetwork("192.0.2.0/+8") == nil && IPNetwork("192.0.2.0/08") == nil && IPNetwork("0.0.0.0/0")?.prefix == 0)
        #expect([IPAddress("10.0.0.2")!, IPAddress("::1")!, IPAddress("10.0.0.10")!].sorted().map(\.text) == ["10.0.0.2", "10.0.0.10", "::1"])
    }
}
