import Testing
@testable import TailWatchEngine

/// Names interned in a `NameTable` keep their bytes where they are, in chunks the table frees
/// all at once, and keep their ids until the table starts afresh.
@Suite struct NameTableTests {
    /// Enough names to fill several chunks, one longer than a chunk, read back byte for byte
    /// after the table filled more chunks; then again after `removeAll`.
    @Test func namesKeepTheirBytesAcrossChunksAndAfterStartingAfresh() {
        let table = NameTable(keepsStrings: false)
        for round in 0..<2 {
            var expected: [String] = []
            for i in 0..<20_000 {
                let name = "mx\(i).host-\(round)-" + String(repeating: "x", count: i % 90) + ".example"
                #expect(withByteLine(name) { table.id(for: $0) } == Int32(i))
                expected.append(name)
            }
            let long = String(repeating: "L", count: 100_000) + "\(round)"
            #expect(withByteLine(long) { table.id(for: $0) } == 20_000)
            #expect(withByteLine("after-the-long-one") { table.id(for: $0) } == 20_001)
            expected += [long, "after-the-long-one"]
            #expect(table.count == expected.count)
            #expect(table.names.isEmpty, "no String kept")
            for (i, name) in expected.enumerated() {
                #expect(table[bytes: Int32(i)].string == name)
                #expect(table[Int32(i)] == name)
            }
            // Found again by their bytes (and, as every name here, without regard to ASCII case).
            #expect(withByteLine("MX19999.HOST-\(round)-" + String(repeating: "X", count: 19_999 % 90) + ".EXAMPLE") { table.id(for: $0) } == 19_999)
            table.removeAll()
            #expect(table.count == 0)
        }
    }

    /// `id(for:sameAs:)` answers as `id(for:)` does, whether the name repeats the last one or not,
    /// and with a `last` from before the table started afresh.
    @Test func theLastNameShortcutAnswersAsALookup() {
        let table = NameTable()
        var last: Int32 = -1
        for name in ["smtp", "smtp", "lmtp", "smtp", "smtp", "dovecot", "dovecot"] {
            let id = withByteLine(name) { table.id(for: $0, sameAs: &last) }
            #expect(id == withByteLine(name) { table.id(for: $0) })
            #expect(table[id] == name)
            #expect(last == id)
        }
        #expect(table.count == 3)
        table.removeAll()
        _ = withByteLine("other") { table.id(for: $0) }
        _ = withByteLine("names") { table.id(for: $0) }
        // `last` is still 2 ("dovecot" before), an id nobody holds now; then 0, which is "other": the
        // bytes are compared, the id never taken on trust.
        #expect(withByteLine("dovecot") { table.id(for: $0, sameAs: &last) } == 2)
        #expect(table[2] == "dovecot")
        last = 0
        #expect(withByteLine("names") { table.id(for: $0, sameAs: &last) } == 1)
    }
}
