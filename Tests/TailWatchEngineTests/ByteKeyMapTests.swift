import Testing
@testable import TailWatchEngine

/// The byte-keyed map behind userdomains and name interning: case-insensitive, growing, exact.
@Suite struct ByteKeyMapTests {
    @Test func caseInsensitiveExactAndGrowing() {
        var map = ByteKeyMap<Int32>()
        for i in 0..<5000 { map.set(Int32(i), for: "Site\(i).Example") }
        #expect(map.count == 5000)
        #expect(map.value(for: "site4242.example") == 4242)
        #expect(map.value(for: "SITE7.EXAMPLE") == 7)
        #expect(map.value(for: "site7.example.") == nil)
        #expect(map.value(for: "site7.exampl") == nil)
        // Bytes that only the hash folds together (`@` and the back-tick) stay different keys.
        map.set(1, for: "a@b")
        #expect(map.value(for: "a`b") == nil)
        var domains = UserDomains(text: "BobsBikes.example: bob\nwww.carol.example: carol\n")
        domains.set(domain: "x.example", user: "bob")
        #expect(domains.user(forDomain: "bobsbikes.EXAMPLE") == "bob")
        #expect(domains.domains(of: "bob") == ["bobsbikes.example", "x.example"])
    }
}

/// Hash flooding: names an attacker crafted to share one slot under a hash they can compute do
/// not share one under this process's seed.
@Suite struct ByteKeyMapSeedTests {
    static func hash(_ name: String, seed: UInt64) -> Int {
        var bytes = Array(name.utf8)
        return bytes.withUnsafeMutableBufferPointer { ByteKeyMap<Int32>.hash(ByteLine(base: UnsafePointer($0.baseAddress!), count: $0.count), seed: seed) }
    }

    @Test func namesCraftedToCollideWithoutTheSeedSpreadWithIt() {
        // 200 sender domains whose unseeded hash falls in slot 0 of a 256-slot table.
        var crafted: [String] = []
        var n = 0
        while crafted.count < 200 {
            let name = "x\(n).spam.example"
            if Self.hash(name, seed: 0) & 255 == 0 { crafted.append(name) }
            n += 1
        }
        #expect(hashSeed != 0)
        var slots = [Int](repeating: 0, count: 256)
        for name in crafted { slots[Self.hash(name, seed: hashSeed) & 255] += 1 }
        #expect(slots.max()! < 20, "the process's seed leaves \(slots.max()!) of 200 crafted names in one slot")
    }
}
