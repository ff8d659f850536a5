/// What a batch sums bytes by: account, domain, protocol and 5-minute bucket.
struct BandwidthKey: Hashable {
    var user: Int32
    var domain: Int32
    var protocolIndex: UInt8
    var bucket: Int64
}

/// The protocols bandwidth is accounted under, as stored and reported.
public enum BandwidthProtocol: String, CaseIterable, Sendable {
    case http, ftp, imap, pop3

    var index: UInt8 {
        switch self {
        case .http: 0
        case .ftp: 1
        case .imap: 2
        case .pop3: 3
        }
    }
    static func from(index: UInt8) -> BandwidthProtocol { allCases[Int(index)] }
}
