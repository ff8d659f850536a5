import Foundation
import Synchronization
import TailWatchComposition

/// HTTP basic authentication against the `[http] password_file`.
///
/// Why a cache of accepted credentials: a browser sends the same header with every request and a
/// bcrypt check costs tens of milliseconds by design; an accepted header is remembered (in memory
/// only) for five minutes, at most 64 of them. Refusals are never cached, so a wrong guess always
/// costs the full hash, and at most two hashes are computed at a time, so a flood of wrong
/// guesses waits its turn instead of taking every core from the server's real work.
final class BasicAuth: Sendable {
    private let passwords: PasswordFile
    private let accepted = Mutex<[String: ContinuousClock.Instant]>([:])
    private let hashing = DispatchSemaphore(value: 2)
    static let challenge = ("WWW-Authenticate", "Basic realm=\"tailwatch\", charset=\"UTF-8\"")

    init(passwords: PasswordFile) {
        self.passwords = passwords
    }

    /// Whether the request's `Authorization` header names a user of the file with the right password.
    func allows(_ request: HTTPRequest) -> Bool {
        guard let header = request.header("authorization"), header.utf8.count <= 1024,
              header.lowercased().hasPrefix("basic ") else { return false }
        let now = ContinuousClock.now
        if let at = accepted.withLock({ $0[header] }), now - at < .seconds(300) { return true }
        guard let data = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
              let pair = String(data: data, encoding: .utf8), let colon = pair.firstIndex(of: ":") else { return false }
        let user = String(pair[..<colon]), password = String(pair[pair.index(after: colon)...])
        // An unknown user costs a hash too, so that timing does not tell which users exist.
        let hash = passwords.hashes[user] ?? passwords.hashes.values.first!
        hashing.wait()
        let ok = PasswordHash.verify(password, against: hash) && passwords.hashes[user] != nil
        hashing.signal()
        if ok {
            accepted.withLock { cache in
                if cache.count >= 64 { cache.removeAll() }
                cache[header] = now
            }
        }
        return ok
    }
}
