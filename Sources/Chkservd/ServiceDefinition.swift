import Foundation

/// One monitored service as cPanel describes it in `/etc/chkserv.d/NAME`:
/// `service[NAME]=PORT,SEND,EXPECT,RESTART,PROCESS,OWNER,TRANSACTION`, trailing fields optional,
/// plus TailWatch's optional override lines (`failure_threshold=5`, `read_timeout_seconds=20`, …).
///
/// Why parsed into this shape: a check must never have to re-interpret text at 3 a.m.; every
/// mistake is found when the file is read and reported with the file and the field.
public struct ServiceDefinition: Sendable, Equatable {
    public enum Endpoint: Sendable, Equatable {
        case none
        /// A TCP port on 127.0.0.1.
        case tcp(UInt16)
        case unix(String)
    }

    public enum Step: Sendable, Equatable {
        /// Read a line; it must start with this (`.` matches any character).
        case expect(String)
        case send(String)
    }

    public var name: String
    public var endpoint: Endpoint
    /// The one-shot exchange: SEND (if any), then EXPECT against the start of the reply.
    public var send: String?
    public var expect: String?
    /// Shell commands run in order to restart it.
    public var restart: [String]
    public var process: ProcessPattern?
    /// User names or uids whose processes count (empty: any).
    public var owners: [String]
    public var transaction: [Step]
    public var limits: ServiceLimits
    /// Services that must be up for this one to work (`depends=mysql`): checked (and restarted)
    /// first; while one is down, this one is `blocked`, not restarted.
    public var dependsOn: [String] = []

    public var hasSocketCheck: Bool { endpoint != .none }
}

/// A service file that cannot be used: which file, which field, what is wrong.
public struct ServiceFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let field: String
    public let message: String
    public var description: String { "\(file): \(field): \(message)" }
}

extension ServiceDefinition {
    static let fieldNames = ["PORT", "SEND", "EXPECT", "RESTART", "PROCESS", "OWNER", "TRANSACTION"]

    /// Reads a service file's text (the name of the file is only for messages).
    public static func parse(_ text: String, file: String, defaults: ServiceLimits) -> Result<ServiceDefinition, ServiceFileError> {
        func fail(_ field: String, _ message: String) -> Result<ServiceDefinition, ServiceFileError> {
            .failure(ServiceFileError(file: file, field: field, message: message))
        }
        var serviceLine: (name: String, value: String)?
        var limits = defaults
        var dependsOn: [String] = []
        for raw in text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("service[") {
                guard serviceLine == nil else { return fail("service", "more than one service[NAME]= line") }
                guard let close = line.firstIndex(of: "]"), line[line.index(after: close)...].hasPrefix("=") else {
                    return fail("service", "expected service[NAME]=PORT,SEND,EXPECT,RESTART,PROCESS,OWNER,TRANSACTION")
                }
                let name = String(line[line.index(line.startIndex, offsetBy: 8)..<close])
                guard Self.isServiceName(name) else {
                    return fail("service", "'\(name)' is not a service name (letters, digits, - _ .)")
                }
                serviceLine = (name, String(line[line.index(close, offsetBy: 2)...]))
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { return fail("line", "'\(line)' is neither service[NAME]=… nor key=value") }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if key == "depends" {
                let names = value.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
                guard !names.isEmpty, names.allSatisfy(Self.isServiceName) else {
                    return fail(key, "'\(value)' is not a list of service names (depends=mysql or depends=mysql,named)")
                }
                dependsOn += names
                continue
            }
            guard ServiceLimits.overrideKeys.contains(key) else {
                return fail(key, "unknown setting (known: service[NAME]=…, depends, \(ServiceLimits.overrideKeys.joined(separator: ", ")))")
            }
            guard let number = Int(value), number >= 0, number <= 86400 else { return fail(key, "'\(value)' is not a whole number of 0 to 86400") }
            switch key {
            case "failure_threshold":
                guard number >= 1 else { return fail(key, "must be at least 1") }
                limits.failureThreshold = number
            case "connect_timeout_seconds":
                guard number >= 1 else { return fail(key, "must be at least 1") }
                limits.connectTimeout = Double(number)
            case "read_timeout_seconds":
                guard number >= 1 else { return fail(key, "must be at least 1") }
                limits.readTimeout = Double(number)
            case "restart_timeout_seconds":
                guard number >= 1 else { return fail(key, "must be at least 1") }
                limits.restartTimeout = Double(number)
            case "restart_grace_seconds":
                limits.restartGrace = Double(number)
            case "startup_seconds":
                limits.startupSeconds = Double(number)
            case "flap_restarts":
                guard number <= 100 else { return fail(key, "must be at most 100 (0 turns flap protection off)") }
                limits.flapRestarts = number
            case "flap_rounds":
                guard number >= 1, number <= 1000 else { return fail(key, "must be 1 to 1000") }
                limits.flapRounds = number
            case "flap_quiet_seconds":
                limits.flapQuietSeconds = Double(number)
            default:
                return fail(key, "unknown setting (known: \(ServiceLimits.overrideKeys.joined(separator: ", ")))")
            }
        }
        guard let (name, value) = serviceLine else { return fail("service", "no service[NAME]=… line") }
        var fields = value.split(separator: ",", omittingEmptySubsequences: false).map { String($0) }
        guard fields.count <= 7 else {
            return fail("TRANSACTION", "more than 7 comma-separated fields (PORT,SEND,EXPECT,RESTART,PROCESS,OWNER,TRANSACTION)")
        }
        while fields.count < 7 { fields.append("") }

        let port = fields[0].trimmingCharacters(in: .whitespaces)
        let endpoint: Endpoint
        if port.isEmpty || port == "x" {
            endpoint = .none
        } else if port.hasPrefix("/") {
            endpoint = .unix(port)
        } else if let number = UInt16(port), number > 0 {
            endpoint = .tcp(number)
        } else {
            return fail("PORT", "'\(port)' is not a TCP port (1-65535), a socket path or x")
        }
        // cPanel's process-only files say x for "none" in every field (service[ftpd]=x,x,x,…).
        func none(_ field: String) -> Bool { field.isEmpty || field == "x" }
        let send = none(fields[1]) ? nil : unescape(fields[1])
        let expect = none(fields[2]) ? nil : unescape(fields[2])
        if endpoint == .none, send != nil || expect != nil {
            return fail("PORT", "SEND/EXPECT given but no port or socket to talk to")
        }
        let restart = (none(fields[3]) ? "" : fields[3]).split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var process: ProcessPattern? = nil
        if !none(fields[4].trimmingCharacters(in: .whitespaces)) {
            guard let p = ProcessPattern.parse(fields[4]) else { return fail("PROCESS", "'\(fields[4])' has an empty name around && or ||") }
            process = p
        }
        let owners = (none(fields[5]) ? "" : fields[5]).split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var transaction: [Step] = []
        if !none(fields[6]) {
            guard endpoint != .none else { return fail("TRANSACTION", "a transaction needs a port or socket") }
            for (i, part) in fields[6].split(separator: "|", omittingEmptySubsequences: false).enumerated() {
                guard !part.isEmpty else { return fail("TRANSACTION", "step \(i + 1) is empty") }
                transaction.append(i % 2 == 0 ? .expect(unescape(String(part))) : .send(unescape(String(part))))
            }
        }
        guard endpoint != .none || process != nil else {
            return fail("PORT", "nothing to check: no port or socket and no PROCESS")
        }
        return .success(ServiceDefinition(
            name: name, endpoint: endpoint, send: send, expect: expect, restart: restart, process: process,
            owners: owners, transaction: transaction, limits: limits, dependsOn: dependsOn.filter { $0 != name }))
    }

    static func isServiceName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) && name.first != "."
    }

    /// `\r`, `\n`, `\t` and `\\` as in cPanel's files; anything else after a backslash stays.
    static func unescape(_ text: String) -> String {
        var out = ""
        var escaped = false
        for c in text {
            if escaped {
                switch c {
                case "r": out.append("\r")
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "\\": out.append("\\")
                default: out.append("\\"); out.append(c)
                }
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else {
                out.append(c)
            }
        }
        if escaped { out.append("\\") }
        return out
    }

    /// What goes on the wire for SEND: the text with CRLF added unless it ends a line itself, and
    /// a blank line more for an HTTP request line (`GET / HTTP/1.0`), which a server waits for.
    static func wire(_ send: String) -> String {
        if send.hasSuffix("\n") { return send }
        let parts = send.split(separator: " ")
        if parts.count == 3, parts[0].allSatisfy({ $0.isUppercase }), parts[2].hasPrefix("HTTP/1.") { return send + "\r\n\r\n" }
        return send + "\r\n"
    }
}
