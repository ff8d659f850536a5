import Testing
@testable import CpBandwd

/// The limits file: sizes with binary suffixes, bad lines reported and skipped.
@Suite struct BandwidthLimitsTests {
    @Test func sizesAndBadLines() {
        let limits = BandwidthLimits(text: "bob: 10G\r\ncarol: 500M # a comment\ndan: 1024\neve: 0\nfrank 10G\ngina: lots\n", file: "bwlimits")
        #expect(limits.bytes == ["bob": 10 << 30, "carol": 500 << 20, "dan": 1024])
        #expect(limits.problems == [
            "bwlimits:5: expected 'user: bytes'",
            "bwlimits:6: cannot read 'lots' as a size (e.g. 10737418240, 500M, 10G)",
        ])
        #expect(BandwidthLimits.size("1.5GiB") == 1_610_612_736)
        #expect(BandwidthLimits.size("-5") == nil)
        #expect(BandwidthLimits.size("99999999999T") == nil)
    }
}
