import Testing
import TailWatchEngine

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
