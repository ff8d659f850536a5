import Foundation
import Testing
import TailWatchEngine

/// Year-less syslog stamps get the year that puts them closest before now, in the log's zone.
@Suite struct SyslogTimestampTests {
    private func parse(_ text: String, zone: String, now: String) -> Int64? {
        let f = ISO8601DateFormatter()
        var stamp = SyslogTimestamp(zone: TimeZone(identifier: zone)!, now: { f.date(from: now)! })
        return withByteLine(text) { stamp.parse($0)?.time }
    }

    @Test func yearRolloverBothWays() {
        // Read on 1 January: a December line is last year's.
        #expect(parse("Dec 31 23:59:00 host x: y", zone: "UTC", now: "2027-01-01T00:10:00Z")
            == CivilTime.utcSeconds(year: 2026, month: 12, day: 31, hour: 23, minute: 59, second: 0))
        // East of UTC the local new year comes first: 00:20 Berlin on 1 January 2027 is still 2026 in UTC.
        #expect(parse("Jan  1 00:20:00 host x: y", zone: "Europe/Berlin", now: "2026-12-31T23:30:00Z")
            == CivilTime.utcSeconds(year: 2026, month: 12, day: 31, hour: 23, minute: 20, second: 0))
        // RFC 3339 carries its year and offset.
        #expect(parse("2026-11-30T10:00:00.5+01:00 host x: y", zone: "UTC", now: "2026-11-30T12:00:00Z")
            == CivilTime.utcSeconds(year: 2026, month: 11, day: 30, hour: 9, minute: 0, second: 0))
        #expect(parse("Foo 30 10:00:00 host", zone: "UTC", now: "2026-11-30T12:00:00Z") == nil)
    }

    @Test func namesThatAreNotUTF8KeepOneID() {
        let table = NameTable()
        let bytes: [UInt8] = [0x62, 0xFF, 0x6F, 0x62]
        let ids = (0..<3).map { _ in bytes.withUnsafeBufferPointer { table.id(for: ByteLine(base: $0.baseAddress!, count: 4)) } }
        #expect(Set(ids).count == 1)
        #expect(table.count == 1)
    }
}
