import Foundation

/// Verifies a password against a bcrypt or SHA-512-crypt hash with the system's libxcrypt (the
/// library `login` and `passwd` use), loaded when first needed.
///
/// Why the system's: hashing passwords is not code to write again; libcrypt.so.1 is on every
/// Debian system (package libcrypt1, required), and loading it at run time keeps its development
/// headers out of the build. `crypt_rn` is the reentrant form: the caller owns its scratch space.
enum PasswordHash {
    private typealias CryptRN = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeMutableRawPointer, Int32) -> UnsafeMutablePointer<CChar>?

    /// The function, or nil when libcrypt cannot be loaded (every login then fails, and says why once).
    private static let cryptRN: CryptRN? = {
        guard let library = dlopen("libcrypt.so.1", RTLD_NOW), let symbol = dlsym(library, "crypt_rn") else { return nil }
        return unsafeBitCast(symbol, to: CryptRN.self)
    }()

    static var available: Bool { cryptRN != nil }

    /// Whether `password` hashes to `hash`, compared in constant time.
    static func verify(_ password: String, against hash: String) -> Bool {
        guard let cryptRN else { return false }
        // libxcrypt's struct crypt_data is 32,768 bytes.
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: 32768, alignment: 16)
        defer {
            memset(scratch, 0, 32768)
            scratch.deallocate()
        }
        memset(scratch, 0, 32768)
        let computed: [UInt8]? = password.withCString { phrase in
            hash.withCString { setting in
                guard let out = cryptRN(phrase, setting, scratch, 32768), out.pointee != 0x2A /* "*": failure token */ else { return nil }
                return Array(UnsafeBufferPointer(start: UnsafeRawPointer(out).assumingMemoryBound(to: UInt8.self), count: strlen(out)))
            }
        }
        guard let computed else { return false }
        return constantTimeEqual(computed, Array(hash.utf8))
    }

    /// Equal bytes, in a time that depends on the lengths only.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}
