import Foundation

/// cPanel's `/etc/userdomains`: which hosting account owns each domain (`domain: user` per line).
///
/// Why in the engine: several drivers attribute traffic to accounts through this one file, and a
/// driver must not depend on another. Lookups go straight from a line's bytes (see `ByteKeyMap`).
public struct UserDomains: Sendable {
    private var map = ByteKeyMap<Int32>()
    /// Account names; `map` values index into this.
    public private(set) var users: [String] = []
    private var userIndex: [String: Int32] = [:]
    /// Domains of each account, in file order.
    private var domainsByUser: [[String]] = []

    public init() {}

    /// Loads the file; a missing file is an empty map (a server without cPanel), other errors throw.
    public static func load(path: String) throws -> UserDomains {
        guard FileManager.default.fileExists(atPath: path) else { return UserDomains() }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return UserDomains(text: text)
    }

    public init(text: String) {
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.hasPrefix("#"), let colon = line.firstIndex(of: ":") else { continue }
            let domain = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let user = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard !domain.isEmpty, domain != "*", !user.isEmpty else { continue }
            set(domain: domain, user: user)
        }
    }

    public mutating func set(domain: String, user: String) {
        let id: Int32
        if let existing = userIndex[user] {
            id = existing
        } else {
            id = Int32(users.count)
            users.append(user)
            userIndex[user] = id
            domainsByUser.append([])
        }
        map.set(id, for: domain)
        domainsByUser[Int(id)].append(domain)
    }

    public var domainCount: Int { map.count }

    /// The domains `user` owns, in the file's order (empty for an unknown user).
    public func domains(of user: String) -> [String] {
        userIndex[user].map { domainsByUser[Int($0)] } ?? []
    }

    /// Index into `users` of the account owning exactly this domain.
    @inline(__always) public func userIndex(forDomain domain: ByteLine) -> Int32? {
        map.value(for: domain)
    }

    public func user(forDomain domain: String) -> String? {
        map.value(for: domain).map { users[Int($0)] }
    }
}

/// Unchecked: a ByteKeyMap owns its storage through pointers; once built it is only read, and a
/// changed userdomains is a new map, never a mutation of one another thread reads.
extension ByteKeyMap: @unchecked Sendable where Value: Sendable {}
