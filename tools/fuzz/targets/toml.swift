import Foundation
import TailWatchEngine

/// libFuzzer entry for the configuration's TOML-subset parser (tailwatch.toml and custom driver
/// definitions): any bytes, as a whole file, must parse or be refused with a line, never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = size > 0 ? String(decoding: UnsafeBufferPointer(start: data!, count: size), as: UTF8.self) : ""
    do {
        let file = try ConfigFile(path: "/fuzz/tailwatch.toml", text: text)
        _ = try? EngineSettings(from: file)
        for name in file.tableNames {
            let section = file.section(name)
            for key in section.keysInFileOrder {
                _ = try? section.string(key)
                _ = try? section.integer(key, in: 0...100)
                _ = try? section.stringArray(key)
            }
        }
    } catch {
        precondition(!error.description.isEmpty)
    }
    return 0
}
