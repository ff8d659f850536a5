import Foundation
import TailWatchEngine

/// libFuzzer entry for AccessLogParser (with and without a leading vhost): any bytes, as one line, must never crash it (address sanitizer on).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let empty: [UInt8] = [0]
    return empty.withUnsafeBufferPointer { fallback -> CInt in
        let line = ByteLine(base: size > 0 ? data! : fallback.baseAddress!, count: size)
        var parser = AccessLogParser(); _ = parser.parse(line, from: 0); if let space = line.firstIndex(of: 0x20) { _ = parser.parse(line, from: space + 1) }
        return 0
    }
}
