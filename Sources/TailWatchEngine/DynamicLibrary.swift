#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A C library loaded at run time with `dlopen`, and its functions by name.
///
/// Why at run time: libraries only some setups use (PCRE2 for regex custom drivers, libpq for the
/// fleet) must not be needed to build or to start; a missing one refuses only the feature that
/// wants it, with the reason `dlerror` gives. The handle is never closed: the functions are used
/// for the life of the process.
public struct DynamicLibrary: @unchecked Sendable {
    /// Why the library or one of its functions cannot be used.
    public struct Missing: Error, Sendable {
        public let reason: String
    }

    public let path: String
    private let handle: UnsafeMutableRawPointer

    public init(path: String) throws(Missing) {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw Missing(reason: dlerror().map { String(cString: $0) } ?? "\(path) not found")
        }
        self.path = path
        self.handle = handle
    }

    /// The function `name`, as the C function type `type` (which must match its declaration).
    public func function<F>(_ name: String, as type: F.Type) throws(Missing) -> F {
        guard let symbol = dlsym(handle, name) else { throw Missing(reason: "\(path) has no \(name)") }
        return unsafeBitCast(symbol, to: type)
    }
}
