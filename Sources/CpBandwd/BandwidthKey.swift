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

    var index: UInt8 { UInt8(Self.allCases.firstIndex(of: self)!) }
    static func from(index: UInt8) -> BandwidthProtocol { allCases[Int(index)] }
}
