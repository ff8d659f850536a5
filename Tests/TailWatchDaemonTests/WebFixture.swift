import Foundation
import TestSupport

/// The shipped example (Examples/: every driver and the custom ones) copied to a temporary folder,
/// with hostile strings added to its mainlog, ingested with `--once`, then served by a running
/// `tailwatchd --foreground` on a free loopback port.
final class WebFixture {
    let folder = TemporaryFolder("tailwatch-web")
    let port = FreePort.next()
    let configPath: String
    private var daemon: Process?

    /// Lines whose text an attacker chose: a remote server's answer and a rejection's reason.
    static let hostileLines = """
        2026-11-02 11:00:00 1vQz9a-0009Zz-9Z <= bob@bobsbikes.example H=(laptop) [203.0.113.5] P=esmtpa A=dovecot_login:bob@bobsbikes.example S=900 id=x@laptop T="hi" from <bob@bobsbikes.example> for victim@example.org
        2026-11-02 11:00:01 1vQz9a-0009Zz-9Z ** victim@example.org R=dkim_lookuphost T=dkim_remote_smtp H=mx.example.org [198.51.100.7]: SMTP error from remote mail server after RCPT TO:<victim@example.org>: 550 <script>alert("xss")</script> no such user
        2026-11-02 11:00:01 1vQz9a-0009Zz-9Z Completed
        2026-11-02 11:00:05 H=(evil) [203.0.113.66] F=<spammer@evil.example> rejected RCPT <x@bobsbikes.example>: <img src=x onerror=alert(2)>

        """

    /// `address`: where the daemon listens (on the fixture's free port); `httpExtra`: more lines of
    /// the `[http]` table.
    init(address: String = "127.0.0.1", httpExtra: String = "") throws {
        let examples = Corpus.projectFolder + "/Examples"
        let copy = folder.file("Examples")
        try FileManager.default.copyItem(atPath: examples, toPath: copy)
        let mainlog = copy + "/logs/exim_mainlog"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: mainlog))
        handle.seekToEndOfFile()
        handle.write(Data(Self.hostileLines.utf8))
        try handle.close()
        configPath = copy + "/tailwatch.toml"
        var config = try String(contentsOfFile: configPath, encoding: .utf8)
        // The example's own [http] table is its last; this one takes its place.
        if let table = config.range(of: "\n[http]") { config = String(config[..<table.lowerBound]) }
        config += "\n[http]\nlisten = \"\(address):\(port)\"\n\(httpExtra)\n"
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    deinit { stop() }

    /// Runs one of the project's binaries to completion (stdout, stderr, exit code).
    func run(_ binary: String, _ arguments: [String]) throws -> (code: Int32, out: String, err: String) {
        try runAbsolute(DaemonFixture.binaryFolder + "/" + binary, arguments)
    }

    /// Runs the program at `path` to completion.
    func runAbsolute(_ path: String, _ arguments: [String]) throws -> (code: Int32, out: String, err: String) {
        let result = try Subprocess.run(path, arguments)
        return (result.code, result.out, result.err)
    }

    /// `tailwatch-report --config … ARGS --format json`.
    func reportJSON(_ arguments: [String]) throws -> String {
        try run("tailwatch-report", ["--config", configPath] + arguments + ["--format", "json"]).out
    }

    /// Ingests the example, starts the daemon and waits until its page answers.
    func start() throws -> Bool {
        let once = try run("tailwatchd", ["--config", configPath, "--once"])
        guard once.code == 0 else { return false }
        daemon = try Subprocess.start(DaemonFixture.binaryFolder + "/tailwatchd", ["--foreground", "--config", configPath])
        return eventually(timeout: 30) { HTTPClient.get(port: port, "/healthz")?.status == 200 }
    }

    func get(_ path: String, headers: [String: String] = [:]) -> HTTPClient.Response? {
        HTTPClient.get(port: port, path, headers: headers)
    }

    func stop() {
        guard let daemon, daemon.isRunning else { return }
        daemon.terminate()
        daemon.waitUntilExit()
    }
}
