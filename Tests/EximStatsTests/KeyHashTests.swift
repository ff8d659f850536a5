import Testing
@testable import EximStats
import TailWatchEngine

/// The apply step's dictionary keys hash with `WordHash` rather than `Hasher`: these check that the
/// hash still spreads keys that differ in a few characters or ids (as message ids and hours do),
/// and that a dictionary keyed by them finds every key.
@Suite struct KeyHashTests {
    /// Message ids as exim makes them: consecutive ones differ in their last few characters.
    static func messageID(_ n: Int) -> String {
        let digits = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var tail = "", v = n
        for _ in 0..<6 {
            tail.append(digits[v % 62])
            v /= 62
        }
        return "1vQx0a-\(tail)-7Q"
    }

    @Test func messageKeysSpreadOverATablesLowBits() {
        let count = 1 << 16
        var low = Set<Int>()
        var keys: [MessageKey: Int] = [:]
        for n in 0..<count {
            let key = Self.messageID(n).utf8.withContiguousStorageIfAvailable { MessageKey(ByteLine(base: $0.baseAddress!, count: $0.count)) }!
            low.insert(key._rawHashValue(seed: 12345) & (count - 1))
            keys[key] = n
        }
        // Random hashes fill 1 - 1/e (63 %) of as many buckets as keys; a weak mix clusters far below.
        #expect(low.count > count * 55 / 100)
        #expect(keys.count == count)
        let probe = Self.messageID(4242).utf8.withContiguousStorageIfAvailable { MessageKey(ByteLine(base: $0.baseAddress!, count: $0.count)) }!
        #expect(keys[probe] == 4242)
    }

    @Test func hourKeysSpreadAndTheSeedMatters() {
        var low = Set<Int>()
        var n = 0
        for user in Int32(0)..<64 {
            for hour in 0..<1024 {
                low.insert(HourKey(user: user, domain: user + 1, hour: Int64(hour) * 3600)._rawHashValue(seed: 7) & 0xFFFF)
                n += 1
            }
        }
        #expect(low.count > n * 55 / 100)
        let key = HourKey(user: 1, domain: 2, hour: 3600)
        #expect(key._rawHashValue(seed: 1) != key._rawHashValue(seed: 2))
        #expect(key._rawHashValue(seed: 1) != HourKey(user: 2, domain: 1, hour: 3600)._rawHashValue(seed: 1))
    }
}
