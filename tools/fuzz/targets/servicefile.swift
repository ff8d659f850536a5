import Foundation

/// libFuzzer entry for chkservd's service-file parser (cPanel's /etc/chkserv.d format): any bytes,
/// as a whole file, must parse or be refused with a message, never crash (address sanitizer on).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = size > 0 ? String(decoding: UnsafeBufferPointer(start: data!, count: size), as: UTF8.self) : ""
    switch ServiceDefinition.parse(text, file: "fuzz", defaults: ServiceLimits()) {
    case .success(let definition): _ = definition.limits.worstCaseSeconds(restarts: 1)
    case .failure(let error): precondition(!error.description.isEmpty)
    }
    return 0
}
