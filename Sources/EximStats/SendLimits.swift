import Foundation
import TailWatchEngine

/// One domain's sending limits, as cPanel's `/etc/email_send_limits` states them:
/// `domain: MAX_EMAIL_PER_HOUR,MAX_DEFER_FAIL_PERCENTAGE,MIN_DEFER_FAIL_TO_TRIGGER_PROTECTION`.
public struct DomainLimit: Sendable, Equatable {
    /// Deliveries to remote hosts per clock hour; 0 = unlimited.
    public var maxPerHour: Int
    /// Defers + failures at this share (percent) of the hour's delivery attempts trigger
    /// protection; 0 = off.
    public var maxDeferFailPercent: Int
    /// ...once there are at least this many defers + failures.
    public var minDeferFail: Int

    public init(maxPerHour: Int, maxDeferFailPercent: Int = 0, minDeferFail: Int = 0) {
        self.maxPerHour = maxPerHour
        self.maxDeferFailPercent = maxDeferFailPercent
        self.minDeferFail = minDeferFail
    }
}

/// The limits file read whole: a line per domain, a `*:` default line, and the configuration's
/// `max_emails_per_hour` beneath it all. A field left empty in a domain's line comes from the `*`
/// line, then from the configuration (`domain: ,50,10` limits only defers and failures).
///
/// Why strict: a typo must not lift a limit silently; a line that cannot be read is reported with
/// its file and line number and the domain falls back to the default.
public struct SendLimits: Sendable, Equatable {
    public var fallback: DomainLimit
    public var domains: [String: DomainLimit] = [:]
    public var problems: [String] = []

    public init(globalMaxPerHour: Int) {
        fallback = DomainLimit(maxPerHour: globalMaxPerHour)
    }

    public func limit(for domain: String) -> DomainLimit {
        domains[domain.lowercased()] ?? fallback
    }

    /// Whether any limit at all applies (otherwise the driver leaves the marker folder alone).
    public var isActive: Bool {
        func active(_ l: DomainLimit) -> Bool { l.maxPerHour > 0 || l.maxDeferFailPercent > 0 }
        return active(fallback) || domains.values.contains(where: active)
    }

    /// Reads `path`; a missing file leaves the global default alone.
    public static func load(path: String?, globalMaxPerHour: Int) -> SendLimits {
        var limits = SendLimits(globalMaxPerHour: globalMaxPerHour)
        guard let path, let data = FileBytes.read(path) else { return limits }
        limits.read(String(decoding: data, as: UTF8.self), path: path)
        return limits
    }

    mutating func read(_ text: String, path: String) {
        var raw: [(domain: String, fields: [Int?], line: Int)] = []
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let colon = trimmed.firstIndex(of: ":") else {
                problems.append("\(path):\(index + 1): expected 'domain: MAX_PER_HOUR,MAX_DEFER_FAIL_PERCENT,MIN_DEFER_FAIL'")
                continue
            }
            let domain = trimmed[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let values = trimmed[trimmed.index(after: colon)...].split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard !domain.isEmpty, !domain.contains("/"), values.count <= 3 else {
                problems.append("\(path):\(index + 1): '\(trimmed)' is not 'domain: MAX_PER_HOUR,MAX_DEFER_FAIL_PERCENT,MIN_DEFER_FAIL'")
                continue
            }
            var fields: [Int?] = []
            var bad = false
            // Per hour up to 100 million, a percentage up to 100, a minimum up to a million.
            let ranges = [0...100_000_000, 0...100, 0...1_000_000]
            for (i, v) in values.enumerated() {
                if v.isEmpty { fields.append(nil); continue }
                guard v.count <= 9, v.allSatisfy({ ("0"..."9").contains($0) }), let n = Int(v), ranges[i].contains(n) else { bad = true; break }
                fields.append(n)
            }
            if bad {
                problems.append("\(path):\(index + 1): '\(trimmed)': limits must be whole numbers (per hour up to 100000000, a percentage up to 100, a minimum up to 1000000; 0 = off)")
                continue
            }
            while fields.count < 3 { fields.append(nil) }
            raw.append((domain, fields, index + 1))
        }
        if let star = raw.last(where: { $0.domain == "*" }) {
            fallback = Self.merge(star.fields, over: fallback)
        }
        for entry in raw where entry.domain != "*" {
            domains[entry.domain] = Self.merge(entry.fields, over: fallback)
        }
    }

    static func merge(_ fields: [Int?], over base: DomainLimit) -> DomainLimit {
        DomainLimit(maxPerHour: fields[0] ?? base.maxPerHour, maxDeferFailPercent: fields[1] ?? base.maxDeferFailPercent, minDeferFail: fields[2] ?? base.minDeferFail)
    }
}
