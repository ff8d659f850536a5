import Foundation
import TailWatchEngine

/// libFuzzer entry for a custom driver's line path: the literal pre-filter, the PCRE2 regex of the
/// sshd example with its captures, a catastrophic pattern under a small match limit, and every
/// timestamp format — any bytes, as one line, must never crash them (address sanitizer on).
nonisolated(unsafe) let sshd = try! LineRegex(
    #"^(?<time>\w{3} [ \d]\d \d\d:\d\d:\d\d) \S+ sshd\[\d+\]: Failed password for (?:invalid user )?(?<user>.*) from (?<ip>[0-9A-Fa-f:.]+) port (?<port>\d+) ssh2$"#,
    matchLimit: 200_000)
nonisolated(unsafe) let runaway = try! LineRegex("(a+)+$", matchLimit: 10_000)
nonisolated(unsafe) var timestamps = TimestampParser(zone: TimeZone(identifier: "Europe/Berlin")!)
let filter = LiteralFilter("Failed password for ")!

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let empty: [UInt8] = [0]
    return empty.withUnsafeBufferPointer { fallback -> CInt in
        let line = ByteLine(base: size > 0 ? data! : fallback.baseAddress!, count: size)
        _ = filter.passes(line)
        if case .matched = sshd.match(line) {
            for group in sshd.groups.values {
                if let capture = sshd.capture(group, in: line) {
                    precondition(capture.base >= line.base && capture.base + capture.count <= line.base + line.count, "capture outside the line")
                }
            }
        }
        _ = runaway.match(line)
        for format in TimestampFormat.allCases { _ = timestamps.parse(line, as: format) }
        return 0
    }
}
