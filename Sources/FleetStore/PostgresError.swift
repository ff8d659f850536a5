/// What went wrong talking to the fleet's PostgreSQL, in words an operator can act on.
public enum PostgresError: Error, Sendable, CustomStringConvertible, Equatable {
    /// libpq could not be loaded.
    case libraryMissing(String)
    /// The server could not be reached or refused the login.
    case connection(String)
    /// A statement failed; `sqlState` is PostgreSQL's five-character code.
    case statement(sqlState: String, message: String)
    /// The fleet database's schema was made by a newer TailWatch.
    case newerSchema(database: Int, binary: Int)

    public var description: String {
        switch self {
        case .libraryMissing(let reason):
            "PostgreSQL's client library could not be loaded (\(reason)); install it (Debian and Ubuntu: apt-get install libpq5; RHEL and Fedora: dnf install libpq)"
        case .connection(let message):
            "cannot connect to the fleet's PostgreSQL: \(message)"
        case .statement(let state, let message):
            "PostgreSQL refused a statement (\(state)): \(message)"
        case .newerSchema(let database, let binary):
            "the fleet's PostgreSQL schema is version \(database), newer than this TailWatch knows (\(binary)): upgrade tailwatch on this server"
        }
    }
}
