import Foundation
import TailWatchEngine

/// libFuzzer entry for IPAddress and IPNetwork: any bytes, as one line, must never crash it (address sanitizer on).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let empty: [UInt8] = [0]
    return empty.withUnsafeBufferPointer { fallback -> CInt in
        let line = ByteLine(base: size > 0 ? data! : fallback.baseAddress!, count: size)
        if let ip = IPAddress(line) { precondition(IPAddress(ip.text) == ip, "canonical text must read back"); _ = ip.isLoopback }; _ = IPNetwork(line.string)
        return 0
    }
}
