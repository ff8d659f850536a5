import Foundation
import TailWatchEngine

/// libFuzzer entry for DovecotLogoutParser: any bytes, as one line, must never crash it (address sanitizer on).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let empty: [UInt8] = [0]
    return empty.withUnsafeBufferPointer { fallback -> CInt in
        let line = ByteLine(base: size > 0 ? data! : fallback.baseAddress!, count: size)
        var parser = DovecotLogoutParser(zone: TimeZone(identifier: "UTC")!, now: { Date(timeIntervalSince1970: 1_796_040_000) }); _ = parser.parse(line)
        return 0
    }
}
