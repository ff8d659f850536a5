import Foundation
import Testing
import TestSupport

/// Each page of the shipped example in a real browser (Debian's headless Chromium, which
/// `.ci/run` installs): the DOM after load holds its tables and charts, the page's own script ran
/// under the Content-Security-Policy, and a screenshot of each is left in `.build/screenshots/`.
@Suite(.serialized) struct WebBrowserTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Page, file name, what its DOM must hold.
    static let pages: [(path: String, name: String, expect: [String])] = [
        ("/", "overview", ["<table", "lines read", "services not up"]),
        ("/bandwidth?month=2026-11", "bandwidth", ["<table", "<svg", "class=\"bar high\"", "bobsbikes.example", "87.94 %"]),
        ("/bandwidth?month=2026-11&user=bob", "bandwidth-bob", ["<svg", "<table", "Bytes per hour"]),
        ("/mail?month=2026-11", "mail", ["<table", "<svg", "Delivery search", "carol"]),
        ("/mail?month=2026-11&recipient=victim%40example.org", "mail-search", ["id=\"trace\"", "&lt;script&gt;"]),
        ("/relay", "relay", ["Hosts that may relay now"]),
        ("/services", "services", ["<table", "tailwatch-self", "status-up"]),
        ("/custom/sshd_failed", "custom", ["<table", "<svg"]),
    ]

    @Test func everyPageRendersItsTablesAndChartsInARealBrowser() throws {
        let browser = try #require(Self.chromium, "Debian's chromium package is needed (.ci/run installs it)")
        let web = try WebFixture()
        #expect(try web.start())
        let shots = Corpus.projectFolder + "/.build/screenshots"
        try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
        for page in Self.pages {
            let png = "\(shots)/\(page.name).png"
            try? FileManager.default.removeItem(atPath: png)
            let profile = web.folder.file("chromium-\(page.name)")
            let run = try web.runAbsolute(browser, [
                "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                "--user-data-dir=\(profile)", "--window-size=1280,1000", "--screenshot=\(png)", "--dump-dom",
                "http://127.0.0.1:\(web.port)\(page.path)",
            ])
            #expect(run.code == 0, "\(page.path): \(run.err.suffix(300))")
            #expect(run.out.contains("data-script=\"ready\""), "\(page.path): the page's script did not run")
            for needle in page.expect {
                #expect(run.out.contains(needle), "\(page.path) lacks \(needle)")
            }
            #expect(!run.out.contains("<script>alert"))
            let size = (try? FileManager.default.attributesOfItem(atPath: png)[.size] as? Int) ?? 0
            #expect(size > 10_000, "\(png): \(size) bytes")
        }
    }
}
