/// Parses a request head (request line and headers, up to the blank line) into an `HTTPRequest`,
/// or the status to refuse it with.
///
/// Why strict: the page is read by browsers and scrapers only; anything they never send (a body,
/// a method other than GET/HEAD, an absolute URI, a header without a colon) is refused rather than
/// interpreted, so there is no second meaning for an attacker to find.
enum HTTPRequestHead {
    struct Refusal: Error {
        let status: Int
        let reason: String
    }

    struct Parsed {
        let request: HTTPRequest
        let keepAlive: Bool
    }

    static func parse(_ head: ArraySlice<UInt8>) throws(Refusal) -> Parsed {
        guard let text = String(validating: head, as: UTF8.self) else { throw Refusal(status: 400, reason: "request head is not UTF-8") }
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        while lines.last == "" { lines.removeLast() }
        guard let requestLine = lines.first else { throw Refusal(status: 400, reason: "empty request") }
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw Refusal(status: 400, reason: "malformed request line") }
        let version = parts[2]
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else { throw Refusal(status: 505, reason: "only HTTP/1.0 and 1.1") }
        guard let method = HTTPRequest.Method(rawValue: String(parts[0])) else { throw Refusal(status: 405, reason: "only GET and HEAD") }
        let target = parts[1]
        guard target.hasPrefix("/") else { throw Refusal(status: 400, reason: "the target must be a path") }
        guard target.utf8.count <= 4096 else { throw Refusal(status: 414, reason: "the target is over 4096 bytes") }

        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else { throw Refusal(status: 400, reason: "malformed header") }
            let name = line[..<colon].lowercased()
            guard name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw Refusal(status: 400, reason: "malformed header name") }
            headers.append((name, line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        if headers.contains(where: { $0.name == "transfer-encoding" }) || headers.contains(where: { $0.name == "content-length" && $0.value != "0" }) {
            throw Refusal(status: 413, reason: "requests carry no body here")
        }
        let connection = headers.first { $0.name == "connection" }?.value.lowercased() ?? ""
        let keepAlive = version == "HTTP/1.1" ? !connection.contains("close") : connection.contains("keep-alive")

        let pathPart: Substring, queryPart: Substring?
        if let q = target.firstIndex(of: "?") {
            pathPart = target[..<q]
            queryPart = target[target.index(after: q)...]
        } else {
            pathPart = target
            queryPart = nil
        }
        guard let path = percentDecoded(pathPart, plusIsSpace: false) else { throw Refusal(status: 400, reason: "path is not valid percent-encoded UTF-8") }
        guard !path.unicodeScalars.contains(where: { $0.value < 0x20 }), !path.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) else {
            throw Refusal(status: 400, reason: "path holds control characters or dot segments")
        }
        var query: [(name: String, value: String)] = []
        for item in (queryPart ?? "").split(separator: "&") where !item.isEmpty {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = percentDecoded(pair[0], plusIsSpace: true),
                  let value = percentDecoded(pair.count > 1 ? pair[1] : "", plusIsSpace: true) else {
                throw Refusal(status: 400, reason: "query is not valid percent-encoded UTF-8")
            }
            query.append((name, value))
        }
        return Parsed(request: HTTPRequest(method: method, path: path, query: query, headers: headers), keepAlive: keepAlive)
    }

    /// `%XX` decoded; nil for a bad escape or bytes that are not UTF-8, or a NUL.
    static func percentDecoded(_ text: Substring, plusIsSpace: Bool) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var i = text.utf8.startIndex
        let utf8 = text.utf8
        while i != utf8.endIndex {
            let b = utf8[i]
            if b == 0x25 {
                let h = utf8.index(after: i)
                guard h != utf8.endIndex, utf8.index(after: h) != utf8.endIndex,
                      let hi = hexValue(utf8[h]), let lo = hexValue(utf8[utf8.index(after: h)]) else { return nil }
                bytes.append(hi << 4 | lo)
                i = utf8.index(h, offsetBy: 2)
                continue
            }
            bytes.append(plusIsSpace && b == 0x2B ? 0x20 : b)
            i = utf8.index(after: i)
        }
        guard !bytes.contains(0) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x41...0x46: b - 0x37
        case 0x61...0x66: b - 0x57
        default: nil
        }
    }
}
