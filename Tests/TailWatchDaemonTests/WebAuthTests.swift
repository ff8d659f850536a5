import Foundation
import Testing
import TestSupport

/// Off loopback the page needs a login: the daemon refuses to start without a password file
/// (exit 2, the line named), refuses weak hashes, and then asks every request but `/healthz` for
/// a user of the file with the right password.
@Suite(.serialized) struct WebAuthTests {
    /// `s3cret` hashed by SHA-512-crypt (`mkpasswd -m sha-512`) and by bcrypt (`htpasswd -B`).
    static let sha512 = "$6$tailwatchsalt$y6RSyyhhEvyxR3neJpD2DPiiDYNg63.jXqhhfBxW8wBTxW3qdQJkjCYwiGV91xYI.EuVLi5BuLr2NPo52/6Ge/"
    static let bcrypt = "$2b$05$abcdefghijklmnopqrstuuLK7U1u6pVRmL7L1BBM2aS35PSZnDXlK"

    static func basic(_ user: String, _ password: String) -> [String: String] {
        ["Authorization": "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()]
    }

    @Test func aNonLoopbackAddressWithoutAPasswordFileIsRefusedAtStart() throws {
        let web = try WebFixture(address: "0.0.0.0")
        let run = try web.run("tailwatchd", ["--config", web.configPath, "--once"])
        #expect(run.code == 2)
        let lines = run.err.split(separator: "\n")
        #expect(lines.count == 1, "\(run.err)")
        let configLines = try String(contentsOfFile: web.configPath, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let listenLine = try #require(configLines.firstIndex { $0.hasPrefix("listen = \"0.0.0.0") }) + 1
        #expect(run.err.contains("tailwatch.toml:\(listenLine)"), "\(run.err)")
        #expect(run.err.contains("password_file"))
    }

    @Test func aWeakOrMalformedPasswordFileIsRefusedWithItsLine() throws {
        for (content, line, words) in [
            ("# operators\nann:\(Self.sha512)\nbob:$1$abc$md5isweak\n", 3, "not bcrypt"),
            ("ann \(Self.sha512)\n", 1, "user:hash"),
            ("ann:\(Self.sha512)\nann:\(Self.bcrypt)\n", 2, "listed twice"),
        ] {
            let folder = TemporaryFolder("tailwatch-pass")
            let passwords = try folder.write("http.passwd", content)
            let web = try WebFixture(address: "0.0.0.0", httpExtra: "password_file = \"\(passwords)\"")
            let run = try web.run("tailwatchd", ["--config", web.configPath, "--once"])
            #expect(run.code == 2)
            #expect(run.err.contains("http.passwd:\(line)"), "\(run.err)")
            #expect(run.err.contains(words), "\(run.err)")
        }
    }

    @Test func everyPathButHealthzAsksForAUserOfTheFile() throws {
        let folder = TemporaryFolder("tailwatch-pass")
        let passwords = try folder.write("http.passwd", "# user:hash\nann:\(Self.sha512)\nbea:\(Self.bcrypt)\n")
        let web = try WebFixture(address: "0.0.0.0", httpExtra: "password_file = \"\(passwords)\"")
        #expect(try web.start())
        #expect(web.get("/healthz")?.status == 200)
        for path in ["/", "/bandwidth", "/api/v1/mail", "/metrics", "/static/style.css", "/nothing"] {
            let response = web.get(path)
            #expect(response?.status == 401, "\(path)")
            #expect(response?.headers["www-authenticate"]?.hasPrefix("Basic realm=") == true)
        }
        #expect(web.get("/", headers: Self.basic("ann", "wrong"))?.status == 401)
        #expect(web.get("/", headers: Self.basic("nobody", "s3cret"))?.status == 401)
        #expect(web.get("/", headers: ["Authorization": "Basic !!!notbase64"])?.status == 401)
        #expect(web.get("/", headers: ["Authorization": "Bearer s3cret"])?.status == 401)
        #expect(web.get("/", headers: Self.basic("ann", "s3cret"))?.status == 200)
        #expect(web.get("/api/v1/mail", headers: Self.basic("bea", "s3cret"))?.status == 200)
        // Accepted once, still checked against the file: a wrong password after a right one fails.
        #expect(web.get("/metrics", headers: Self.basic("ann", "s3cret"))?.status == 200)
        #expect(web.get("/metrics", headers: Self.basic("ann", "s3cret!"))?.status == 401)
    }
}
