import Foundation
import GRDB
import Logging
import TailWatchComposition
import TailWatchEngine

/// What the daemon serves: the pages, the JSON API, `/metrics` and `/healthz`, answered from a
/// read-only connection pool of its own (never the engine's writer, so a page cannot delay a commit).
///
/// Why everything goes through `ReportRequest`: an API call, a page and a `tailwatch-report` run
/// with the same parameters parse into the same command and run the same query, so the three can
/// never disagree.
public final class WebApp: Sendable {
    let context: ReportContext
    let health: EngineHealth
    let auth: BasicAuth?
    let hostName: String
    let logger: Logger

    public init(context: ReportContext, health: EngineHealth, hostName: String, logger: Logger) {
        self.context = context
        self.health = health
        self.auth = context.loaded.http.passwords.map(BasicAuth.init)
        self.hostName = hostName
        self.logger = logger
    }

    var zone: TimeZone { context.loaded.settings.timezone }

    /// The custom drivers of the configuration (`/custom/NAME` takes no other name, so it can never
    /// name a path).
    var customDrivers: [String] {
        let stock = Set(DriverRegistry.stock.map(\.name))
        return context.loaded.descriptors.map(\.name).filter { !stock.contains($0) }
    }

    /// The API's paths and the report each one answers.
    static let apiRoutes: [String: [String]] = [
        "/api/v1/bandwidth": ["bandwidth"],
        "/api/v1/mail": ["mail", "summary"],
        "/api/v1/mail/trace": ["mail", "trace"],
        "/api/v1/mail/top-senders": ["mail", "top-senders"],
        "/api/v1/mail/limits": ["mail", "limits"],
        "/api/v1/relayhosts": ["relayhosts"],
        "/api/v1/services": ["services"],
    ]

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        if request.path == "/healthz" { return healthz() }
        if !hostAllowed(request) {
            return .text(421, "this page answers on loopback to localhost, 127.0.0.1 and [::1] only (open it through an SSH tunnel)")
        }
        if let auth, !auth.allows(request) {
            return .text(401, "login required", headers: [BasicAuth.challenge])
        }
        if let file = StaticFiles.response(for: request.path) { return file }
        if request.path == "/metrics" { return metrics() }
        if request.path.hasPrefix("/api/") { return api(request) }
        return page(request)
    }

    /// On a loopback address, the `Host` a browser sent must be a loopback name. A page on the
    /// internet can point a name of its own at 127.0.0.1 (DNS rebinding) and have a browser on
    /// this machine, or at the end of an SSH tunnel, fetch our pages for it; such a request still
    /// names the attacker's host. Off loopback, the password guards the page.
    func hostAllowed(_ request: HTTPRequest) -> Bool {
        guard case .on(let address, _) = context.loaded.http.listen, address.isLoopback, let host = request.header("host") else { return true }
        var name = Substring(host.lowercased())
        if name.hasPrefix("[") {
            name = name.prefix { $0 != "]" } + "]"
        } else if let colon = name.lastIndex(of: ":") {
            name = name[..<colon]
        }
        if name == "localhost" || name == "[::1]" { return true }
        return IPAddress(String(name))?.isLoopback ?? false
    }

    func healthz() -> HTTPResponse {
        let snapshot = health.snapshot
        if let since = snapshot.failingSince, let reason = snapshot.failure {
            return .text(503, "commits failing since \(ReportTable.iso(Int64(since.timeIntervalSince1970))): \(reason.split(separator: "\n").first ?? "")")
        }
        return .text(200, "ok")
    }

    /// Runs the report `path` with `parameters` (an operand: a custom driver's name), or throws
    /// the response that says why not (400 with the report's one-line reason, or 500).
    func table(_ path: [String], operand: String? = nil, _ parameters: [(name: String, value: String)]) throws(WebFailure) -> ReportTable {
        do {
            let report = try ReportRequest.parse(path: path, operand: operand, parameters: parameters)
            return try report.table(context)
        } catch let failure as CommandFailure {
            switch failure {
            case .usage(let message): throw WebFailure(response: .text(400, message))
            case .runtime(let message): throw WebFailure(response: internalError(message))
            }
        } catch let failure as WebFailure {
            throw failure
        } catch {
            throw WebFailure(response: internalError("\(error)"))
        }
    }

    func internalError(_ message: String) -> HTTPResponse {
        logger.error("web: \(message)")
        let line = message.split(separator: "\n").first.map(String.init) ?? "internal error"
        return .text(500, "internal error: \(line)")
    }

    func api(_ request: HTTPRequest) -> HTTPResponse {
        let path = request.path.hasSuffix("/") && request.path.count > 1 ? String(request.path.dropLast()) : request.path
        do throws(WebFailure) {
            if let words = Self.apiRoutes[path] {
                return .json(try table(words, request.query).render(.json))
            }
            let name = String(path.dropFirst("/api/v1/custom/".count))
            if path.hasPrefix("/api/v1/custom/") {
                guard customDrivers.contains(name) else { return .text(404, "no custom driver '\(ReportTable.printable(name))' is loaded") }
                return .json(try table(["custom"], operand: name, request.query).render(.json))
            }
            return .text(404, "no such API path: \(ReportTable.printable(path)) (see /api/v1/bandwidth, /mail, /mail/trace, /relayhosts, /services, /custom/NAME)")
        } catch {
            return error.response
        }
    }
}

/// A request that cannot be answered: the response saying why (400 with the report's reason, 500).
struct WebFailure: Error {
    let response: HTTPResponse
}
