import Foundation
import Testing
import TestSupport

/// The daemon's `[http]` page through a real socket: the API answers exactly what the report CLI
/// prints, bad parameters are one-line 400s, `/metrics` parses and agrees with the reports, and
/// hostile log text is shown as text.
@Suite(.serialized) struct WebAPITests {
    /// API path and query ↔ the report CLI's arguments (absolute times, so both see the same range).
    static let pairs: [(String, [String])] = [
        ("/api/v1/bandwidth", ["bandwidth"]),
        ("/api/v1/bandwidth?by=day&since=2026-11-01&until=2026-12-01", ["bandwidth", "--by", "day", "--since", "2026-11-01", "--until", "2026-12-01"]),
        ("/api/v1/bandwidth?user=bob&protocol=http&by=hour", ["bandwidth", "--user", "bob", "--protocol", "http", "--by", "hour"]),
        ("/api/v1/bandwidth?by=day&per=protocol", ["bandwidth", "--by", "day", "--per", "protocol"]),
        ("/api/v1/mail?by=hour&per=none", ["mail", "--by", "hour", "--per", "none"]),
        ("/api/v1/mail", ["mail"]),
        ("/api/v1/mail?by=hour&since=2026-11-02T00:00:00Z", ["mail", "--by", "hour", "--since", "2026-11-02T00:00:00Z"]),
        ("/api/v1/mail/trace", ["mail", "trace"]),
        ("/api/v1/mail/trace?recipient=%40example.org&result=failed", ["mail", "trace", "--recipient", "@example.org", "--result", "failed"]),
        ("/api/v1/mail/trace?result=rejected&limit=5", ["mail", "trace", "--result", "rejected", "--limit", "5"]),
        ("/api/v1/mail/top-senders?since=2026-11-01&until=2026-12-01", ["mail", "top-senders", "--since", "2026-11-01", "--until", "2026-12-01"]),
        ("/api/v1/relayhosts?window=60", ["relayhosts", "--window", "60"]),
        ("/api/v1/services", ["services"]),
        ("/api/v1/custom/http_5xx", ["custom", "http_5xx"]),
        ("/api/v1/custom/sshd_failed?by=hour", ["custom", "sshd_failed", "--by", "hour"]),
    ]

    @Test func everyEndpointEqualsTheReportCLIsJSON() throws {
        let web = try WebFixture()
        #expect(try web.start())
        for (path, arguments) in Self.pairs {
            // A chkservd round may land between the two reads; equal on a second look is equal.
            var api = "", cli = ""
            for _ in 0..<3 {
                let response = web.get(path)
                #expect(response?.status == 200, "\(path): \(response?.body ?? "no answer")")
                #expect(response?.headers["content-type"] == "application/json")
                api = response?.body ?? ""
                cli = try web.reportJSON(arguments)
                if api == cli { break }
            }
            #expect(api == cli, "\(path) differs from tailwatch-report \(arguments.joined(separator: " "))")
            #expect(api.hasPrefix("["))
        }
        // Not empty where the example has data: the API reads the same database the CLI does.
        #expect(web.get("/api/v1/mail/trace?result=failed")?.body.contains("victim@example.org") == true)
        #expect(web.get("/api/v1/bandwidth")?.body.contains("\"user\":\"bob\"") == true)
    }

    @Test func badParametersAreOneLine400s() throws {
        let web = try WebFixture()
        #expect(try web.start())
        let bad = [
            "/api/v1/mail/trace?limit=0", "/api/v1/bandwidth?by=week", "/api/v1/mail?since=yesterdayish",
            "/api/v1/bandwidth?colour=red", "/api/v1/bandwidth?per=host", "/api/v1/bandwidth?per=colour", "/api/v1/relayhosts?export=/tmp/x", "/api/v1/mail?config=/etc/passwd",
            "/api/v1/mail/trace?msgid=..%2F..%2Fetc", "/api/v1/bandwidth?since=2026-12-01&until=2026-11-01",
            "/api/v1/mail?--user=x", "/api/v1/services?format=csv",
        ]
        for path in bad {
            let response = web.get(path)
            #expect(response?.status == 400, "\(path): \(response?.status ?? 0) \(response?.body ?? "")")
            let body = response?.body ?? ""
            #expect(body.hasSuffix("\n") && body.dropLast().contains("\n") == false && body.count > 5, "\(path): \(body)")
        }
        // A value that looks like a flag is a value, never an option: no file is written.
        let sneaky = web.get("/api/v1/mail?user=--export%3D\(web.folder.file("written"))")
        #expect(sneaky?.status == 200)
        #expect(!FileManager.default.fileExists(atPath: web.folder.file("written")))
        #expect(web.get("/api/v1/custom/nope")?.status == 404)
        #expect(web.get("/api/v1/nothing")?.status == 404)
    }

    @Test func metricsParseAndAgreeWithTheReports() throws {
        let web = try WebFixture()
        #expect(try web.start())
        let response = try #require(web.get("/metrics"))
        #expect(response.status == 200)
        #expect(response.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let metrics = try PrometheusText.parse(response.body)

        let mail = try JSONSerialization.jsonObject(with: Data(try web.reportJSON(["mail"]).utf8)) as! [[String: Any]]
        func total(_ rows: [[String: Any]], _ key: String) -> Double { rows.reduce(0) { $0 + Double($1[key] as! Int) } }
        #expect(metrics.value("exim_messages_total", ["flag": "arrived"]) == total(mail, "sent"))
        #expect(metrics.value("exim_messages_total", ["flag": "delivered"]) == total(mail, "delivered"))
        #expect(metrics.value("exim_messages_total", ["flag": "failed"]) == total(mail, "failed"))
        #expect(metrics.value("exim_messages_total", ["flag": "failed"]) ?? 0 >= 1)

        let bandwidth = try JSONSerialization.jsonObject(with: Data(try web.reportJSON(["bandwidth"]).utf8)) as! [[String: Any]]
        let http = bandwidth.filter { $0["protocol"] as? String == "http" }
        #expect(metrics.value("tailwatch_bandwidth_bytes_total", ["protocol": "http"]) == total(http, "bytes"))
        #expect(total(http, "bytes") > 0)

        let status = try web.run("tailwatchd", ["--config", web.configPath, "--status=long"]).out
        let eximLine = try #require(status.split(separator: "\n").first { $0.hasPrefix("eximstats:") })
        let linesRead = try #require(metrics.value("tailwatch_lines_read_total", ["driver": "eximstats"]))
        #expect(eximLine.contains("\(Int(linesRead)) lines read"))
        #expect(metrics.value("tailwatch_service_up", ["service": "tailwatch-self"]) != nil)
        #expect(metrics.value("tailwatch_relay_hosts", [:]) != nil)
        #expect(metrics.value("tailwatch_last_commit_timestamp_seconds", [:]) ?? 0 > 1_700_000_000)
        // The histogram's buckets only grow, and +Inf is the count.
        let buckets = metrics.samples.filter { $0.name == "tailwatch_commit_duration_seconds_bucket" }.map(\.value)
        #expect(buckets.count == 13 && buckets == buckets.sorted())
        #expect(buckets.last == metrics.value("tailwatch_commit_duration_seconds_count", [:]))
        // No label takes an unbounded value (an address, an IP, an account).
        for sample in metrics.samples {
            #expect(Set(sample.labels.keys).isSubset(of: ["driver", "reason", "flag", "protocol", "service", "le"]), "\(sample.name)")
        }
    }

    @Test func hostileLogTextIsShownAsText() throws {
        let web = try WebFixture()
        #expect(try web.start())
        let page = try #require(web.get("/mail?month=2026-11&result=all&recipient=victim%40example.org"))
        #expect(page.status == 200)
        #expect(page.body.contains("&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;"))
        #expect(!page.body.contains("<script>alert"))
        let rejected = try #require(web.get("/mail?month=2026-11&result=rejected&sender=spammer%40evil.example"))
        #expect(rejected.body.contains("&lt;img src=x onerror=alert(2)&gt;"))
        #expect(!rejected.body.contains("<img"))
        // A parameter echoed in the search form is escaped as well.
        let reflected = try #require(web.get("/mail?sender=%22%3E%3Cscript%3Ealert(3)%3C%2Fscript%3E"))
        #expect(!reflected.body.contains("<script>alert(3)"))
        #expect(reflected.body.contains("&quot;&gt;&lt;script&gt;"))
        // And the browser would refuse an injected inline script anyway.
        #expect(page.headers["content-security-policy"]?.contains("script-src 'self'") == true)
    }

    @Test func pathsCannotLeaveTheirPlaceAndRequestsAreBounded() throws {
        let web = try WebFixture()
        #expect(try web.start())
        for path in ["/custom/../../etc/passwd", "/custom/%2e%2e/%2e%2e/etc/passwd", "/static/../tailwatch.toml", "/custom/http_5xx%00", "/%ff"] {
            let status = web.get(path)?.status
            #expect(status == 400 || status == 404, "\(path): \(status ?? 0)")
            #expect(web.get(path)?.body.contains("root:") == false)
        }
        #expect(web.get("/custom/http_5xx")?.status == 200)
        #expect(web.get("/custom/tailwatch")?.status == 404)
        // A head over 16 KiB, a body, a method that writes, an absolute URI.
        let huge = "GET / HTTP/1.1\r\nHost: x\r\nX-Fill: " + String(repeating: "a", count: 20_000) + "\r\n\r\n"
        #expect(HTTPClient.raw(port: web.port, Array(huge.utf8))?.status == 431)
        #expect(HTTPClient.raw(port: web.port, Array("POST /api/v1/mail HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}".utf8))?.status == 405)
        #expect(HTTPClient.raw(port: web.port, Array("GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello".utf8))?.status == 413)
        #expect(HTTPClient.raw(port: web.port, Array("GET http://evil/ HTTP/1.1\r\n\r\n".utf8))?.status == 400)
        #expect(HTTPClient.raw(port: web.port, Array("GET /\(String(repeating: "a", count: 5000)) HTTP/1.1\r\n\r\n".utf8))?.status == 414)
        // A browser sent here by a rebound DNS name still names that host: refused; loopback names pass.
        #expect(HTTPClient.raw(port: web.port, Array("GET / HTTP/1.1\r\nHost: evil.example:\(web.port)\r\nConnection: close\r\n\r\n".utf8))?.status == 421)
        #expect(HTTPClient.raw(port: web.port, Array("GET /api/v1/services HTTP/1.1\r\nHost: localhost:\(web.port)\r\nConnection: close\r\n\r\n".utf8))?.status == 200)
        #expect(HTTPClient.raw(port: web.port, Array("GET /api/v1/services HTTP/1.1\r\nHost: [::1]:\(web.port)\r\nConnection: close\r\n\r\n".utf8))?.status == 200)
        // Still serving after all that.
        #expect(web.get("/healthz")?.status == 200)
    }
}

/// Prometheus' text exposition format, parsed strictly enough to catch a malformed line: every
/// sample belongs to a family declared by `# TYPE` before it, and its value is a number.
struct PrometheusText {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    var samples: [Sample] = []

    func value(_ name: String, _ labels: [String: String]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    static func parse(_ text: String) throws -> PrometheusText {
        var result = PrometheusText()
        var types: [String: String] = [:]
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else { throw Malformed(description: "bad TYPE: \(line)") }
                guard types[String(parts[2])] == nil else { throw Malformed(description: "TYPE twice: \(line)") }
                types[String(parts[2])] = String(parts[3])
                continue
            }
            if line.hasPrefix("#") { continue }
            var name = "", labels: [String: String] = [:], rest = Substring(line)
            if let brace = line.firstIndex(of: "{") {
                name = String(line[..<brace])
                guard let close = line.lastIndex(of: "}") else { throw Malformed(description: "unclosed labels: \(line)") }
                for pair in line[line.index(after: brace)..<close].split(separator: ",") {
                    let kv = pair.split(separator: "=", maxSplits: 1)
                    guard kv.count == 2, kv[1].hasPrefix("\""), kv[1].hasSuffix("\""), kv[1].count >= 2 else { throw Malformed(description: "bad label: \(line)") }
                    labels[String(kv[0])] = String(kv[1].dropFirst().dropLast())
                }
                rest = line[line.index(after: close)...]
            } else {
                let parts = line.split(separator: " ", maxSplits: 1)
                name = String(parts[0])
                rest = parts.count > 1 ? parts[1] : ""
            }
            guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }), !name.isEmpty else { throw Malformed(description: "bad name: \(line)") }
            let family = ["_bucket", "_sum", "_count"].reduce(name) { n, suffix in
                n.hasSuffix(suffix) && types[String(n.dropLast(suffix.count))] == "histogram" ? String(n.dropLast(suffix.count)) : n
            }
            guard types[family] != nil else { throw Malformed(description: "sample before its TYPE: \(line)") }
            guard let value = Double(rest.trimmingCharacters(in: .whitespaces)) else { throw Malformed(description: "bad value: \(line)") }
            result.samples.append(Sample(name: name, labels: labels, value: value))
        }
        return result
    }
}
