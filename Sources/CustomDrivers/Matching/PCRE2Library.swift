#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import TailWatchEngine

/// PCRE2's 8-bit runtime library, loaded when the first regex driver asks for it.
///
/// Why it is loaded at run time and not linked: a fresh machine has PCRE2's runtime
/// (`libpcre2-8.so.0`: grep needs it, so every mainstream distribution installs it) but not its
/// headers (`libpcre2-dev`), and the project must build with only SQLite's headers. So the few
/// functions and constants TailWatch uses are declared here, from PCRE2's documented, stable ABI
/// (soname 0 since 2015), and bound with `dlopen`/`dlsym`. A call through these pointers costs what
/// a call through the PLT costs. A machine without the library still runs every driver but custom
/// drivers with a `regex`, which are refused with `Unavailable`'s message.
///
/// The environment variable `TAILWATCH_PCRE2_LIBRARY` names another file to load (a PCRE2 built
/// elsewhere, or a missing one, which is how the tests prove the refusal).
struct PCRE2Library: Sendable {
    /// PCRE2 cannot be used here: the library is missing or lacks a function TailWatch needs.
    struct Unavailable: Error, CustomStringConvertible {
        let reason: String
        var description: String {
            "PCRE2's runtime library could not be loaded (\(reason)); install it (Debian and Ubuntu: apt-get install libpcre2-8-0; RHEL and Fedora: dnf install pcre2) or use 'split' instead of 'regex'"
        }
    }

    // The constants used, with their values from pcre2.h (fixed by PCRE2's ABI).
    static let neverUTF: UInt32 = 0x0000_1000
    static let jitComplete: UInt32 = 0x0000_0001
    static let infoNameCount: UInt32 = 17
    static let infoNameEntrySize: UInt32 = 18
    static let infoNameTable: UInt32 = 19
    /// PCRE2_UNSET, `~(size_t)0`, as the `Int` Swift gives `size_t`.
    static let unset = Int(bitPattern: UInt.max)
    static let errorNoMatch: Int32 = -1
    static let errorJITStackLimit: Int32 = -46
    static let errorMatchLimit: Int32 = -47
    static let errorDepthLimit: Int32 = -53
    static let errorHeapLimit: Int32 = -63

    // The functions used. PCRE2's opaque structs are `OpaquePointer`s; PCRE2_SIZE is size_t (Int).
    typealias Compile = @convention(c) (UnsafePointer<UInt8>?, Int, UInt32, UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int>?, OpaquePointer?) -> OpaquePointer?
    typealias ErrorMessage = @convention(c) (Int32, UnsafeMutablePointer<UInt8>?, Int) -> Int32
    typealias JITCompile = @convention(c) (OpaquePointer?, UInt32) -> Int32
    typealias MatchDataFromPattern = @convention(c) (OpaquePointer?, OpaquePointer?) -> OpaquePointer?
    typealias MatchContextCreate = @convention(c) (OpaquePointer?) -> OpaquePointer?
    typealias SetLimit = @convention(c) (OpaquePointer?, UInt32) -> Int32
    typealias JITStackCreate = @convention(c) (Int, Int, OpaquePointer?) -> OpaquePointer?
    typealias JITStackAssign = @convention(c) (OpaquePointer?, OpaquePointer?, UnsafeMutableRawPointer?) -> Void
    typealias Free = @convention(c) (OpaquePointer?) -> Void
    typealias Match = @convention(c) (OpaquePointer?, UnsafePointer<UInt8>?, Int, Int, UInt32, OpaquePointer?, OpaquePointer?) -> Int32
    typealias OvectorPointer = @convention(c) (OpaquePointer?) -> UnsafeMutablePointer<Int>?
    typealias PatternInfo = @convention(c) (OpaquePointer?, UInt32, UnsafeMutableRawPointer?) -> Int32

    let compile: Compile
    let errorMessage: ErrorMessage
    let jitCompile: JITCompile
    let matchDataFromPattern: MatchDataFromPattern
    let matchContextCreate: MatchContextCreate
    let setMatchLimit: SetLimit
    let setDepthLimit: SetLimit
    let jitStackCreate: JITStackCreate
    let jitStackAssign: JITStackAssign
    let jitStackFree: Free
    let matchDataFree: Free
    let matchContextFree: Free
    let codeFree: Free
    let match: Match
    let ovectorPointer: OvectorPointer
    let patternInfo: PatternInfo

    /// The library, loaded once per process; every regex shares it.
    static let shared: Result<PCRE2Library, Unavailable> = {
        do throws(Unavailable) {
            return .success(try PCRE2Library(path: ProcessInfo.processInfo.environment["TAILWATCH_PCRE2_LIBRARY"] ?? "libpcre2-8.so.0"))
        } catch {
            return .failure(error)
        }
    }()

    private init(path: String) throws(Unavailable) {
        let library: DynamicLibrary
        do { library = try DynamicLibrary(path: path) } catch { throw Unavailable(reason: error.reason) }
        func bind<F>(_ name: String, as type: F.Type) throws(Unavailable) -> F {
            do { return try library.function(name, as: type) } catch { throw Unavailable(reason: error.reason) }
        }
        compile = try bind("pcre2_compile_8", as: Compile.self)
        errorMessage = try bind("pcre2_get_error_message_8", as: ErrorMessage.self)
        jitCompile = try bind("pcre2_jit_compile_8", as: JITCompile.self)
        matchDataFromPattern = try bind("pcre2_match_data_create_from_pattern_8", as: MatchDataFromPattern.self)
        matchContextCreate = try bind("pcre2_match_context_create_8", as: MatchContextCreate.self)
        setMatchLimit = try bind("pcre2_set_match_limit_8", as: SetLimit.self)
        setDepthLimit = try bind("pcre2_set_depth_limit_8", as: SetLimit.self)
        jitStackCreate = try bind("pcre2_jit_stack_create_8", as: JITStackCreate.self)
        jitStackAssign = try bind("pcre2_jit_stack_assign_8", as: JITStackAssign.self)
        jitStackFree = try bind("pcre2_jit_stack_free_8", as: Free.self)
        matchDataFree = try bind("pcre2_match_data_free_8", as: Free.self)
        matchContextFree = try bind("pcre2_match_context_free_8", as: Free.self)
        codeFree = try bind("pcre2_code_free_8", as: Free.self)
        match = try bind("pcre2_match_8", as: Match.self)
        ovectorPointer = try bind("pcre2_get_ovector_pointer_8", as: OvectorPointer.self)
        patternInfo = try bind("pcre2_pattern_info_8", as: PatternInfo.self)
    }
}
