import Foundation
import Testing
@testable import Chkservd

/// cPanel's service files, read into checks, and every mistake named by file and field.
@Suite struct ServiceDefinitionTests {
    static func parse(_ text: String) -> Result<ServiceDefinition, ServiceFileError> {
        ServiceDefinition.parse(text, file: "/etc/chkserv.d/x", defaults: ServiceLimits())
    }

    @Test func cPanelFilesAreRead() throws {
        let exim = try Self.parse("service[exim]=25,QUIT,220,/usr/local/cpanel/scripts/restartsrv_exim\n").get()
        #expect(exim.name == "exim" && exim.endpoint == .tcp(25) && exim.send == "QUIT" && exim.expect == "220")
        #expect(exim.restart == ["/usr/local/cpanel/scripts/restartsrv_exim"] && exim.process == nil && exim.owners.isEmpty)
        let httpd = try Self.parse("service[httpd]=80,GET / HTTP/1.0,HTTP/1..,/scripts/restartsrv_httpd; /bin/true,httpd,root|nobody").get()
        #expect(httpd.expect == "HTTP/1.." && httpd.restart == ["/scripts/restartsrv_httpd", "/bin/true"])
        #expect(httpd.process?.alternatives == [["httpd"]] && httpd.owners == ["root", "nobody"])
        #expect(ServiceDefinition.wire("GET / HTTP/1.0") == "GET / HTTP/1.0\r\n\r\n")
        #expect(ServiceDefinition.wire("QUIT") == "QUIT\r\n")
        let cron = try Self.parse("# crond has no port\nservice[crond]=x,,,/scripts/restartsrv_crond,crond&&anacron||cronie,root\nfailure_threshold=5\nrestart_grace_seconds=0\n").get()
        #expect(cron.endpoint == .none && cron.process?.alternatives == [["crond", "anacron"], ["cronie"]])
        #expect(cron.limits.failureThreshold == 5 && cron.limits.restartGrace == 0 && cron.limits.readTimeout == 60)
        // cPanel's own process-only form: x for every unused field.
        let ftpd = try Self.parse("service[ftpd]=x,x,x,/usr/local/cpanel/scripts/restartsrv_ftpserver,ftpd,root").get()
        #expect(ftpd.endpoint == .none && ftpd.send == nil && ftpd.expect == nil && ftpd.process?.alternatives == [["ftpd"]] && ftpd.owners == ["root"])
        let socket = try Self.parse("service[mysql]=/var/lib/mysql/mysql.sock,,,,,,expect 220|EHLO x\\r\\n|250").get()
        #expect(socket.endpoint == .unix("/var/lib/mysql/mysql.sock"))
        #expect(socket.transaction == [.expect("expect 220"), .send("EHLO x\r\n"), .expect("250")])
    }

    /// TailWatch's optional lines: dependencies, start-up period and flap protection; a cPanel
    /// file without them gets the defaults.
    @Test func dependenciesAndFlapSettingsAreRead() throws {
        let plain = try Self.parse("service[exim]=25,QUIT,220,/scripts/restartsrv_exim\n").get()
        #expect(plain.dependsOn.isEmpty && plain.limits.startupSeconds == 60 && plain.limits.flapRestarts == 3 && plain.limits.flapRounds == 10)
        let web = try Self.parse("""
            service[httpd]=80,GET / HTTP/1.0,HTTP/1..,/scripts/restartsrv_httpd
            depends=mysql,named
            depends = httpd
            startup_seconds=120
            flap_restarts=2
            flap_rounds=6
            flap_quiet_seconds=600
            """).get()
        #expect(web.dependsOn == ["mysql", "named"], "a service never depends on itself")
        #expect(web.limits.startupSeconds == 120 && web.limits.flapRestarts == 2 && web.limits.flapRounds == 6 && web.limits.flapQuietSeconds == 600)
        guard case .failure(let error) = Self.parse("service[x]=25,,,\ndepends=my sql!\n") else {
            Issue.record("a bad dependency name was accepted")
            return
        }
        #expect(error.field == "depends")
        guard case .failure(let rounds) = Self.parse("service[x]=25,,,\nflap_rounds=0\n") else {
            Issue.record("flap_rounds=0 was accepted")
            return
        }
        #expect(rounds.field == "flap_rounds")
    }

    @Test func dependencyLevelsPutDependenciesFirstAndSurviveCycles() throws {
        func service(_ name: String, _ deps: [String]) throws -> ServiceDefinition {
            var s = try Self.parse("service[\(name)]=25,,,\n").get()
            s.dependsOn = deps
            return s
        }
        var problems: [String] = []
        let levels = DependencyOrder.levels(of: [
            try service("httpd", ["mysql"]), try service("mysql", []), try service("cpanel", ["httpd", "mysql"]),
            try service("named", ["ghost"]), try service("a", ["b"]), try service("b", ["a"]),
        ]) { problems.append($0) }
        #expect(levels.map { $0.map(\.name) } == [["mysql", "named"], ["httpd"], ["cpanel"], ["a", "b"]])
        #expect(problems.contains("named: depends on ghost, not monitored; checked without it"))
        #expect(problems.contains("a, b: their dependencies form a cycle; checked last, without them"))
    }

    @Test(arguments: [
        ("service[x]=http,,,", "PORT"),
        ("service[x]=70000,,,", "PORT"),
        ("service[x]=x,,,/bin/true", "PORT"), // nothing to check
        ("service[x]=x,QUIT,220,,proc", "PORT"), // SEND without a socket
        ("service[x]=25,,,,a&&||b", "PROCESS"),
        ("service[x]=25,,,,,,,extra", "TRANSACTION"),
        ("service[x]=25,,,,,,220||QUIT", "TRANSACTION"),
        ("service[x]=25\nfailure_threshold=0", "failure_threshold"),
        ("service[x]=25\nretries=3", "retries"),
        ("service[x]=25\nread_timeout_seconds=soon", "read_timeout_seconds"),
        ("exim=25,QUIT,220", "exim"),
        ("just words", "line"),
        ("# nothing here\n", "service"),
        ("service[../etc]=25", "service"),
        ("service[a]=25\nservice[b]=26", "service"),
    ])
    func mistakesNameTheField(_ text: String, _ field: String) {
        guard case .failure(let error) = Self.parse(text) else {
            Issue.record("accepted: \(text)")
            return
        }
        #expect(error.field == field, "\(error)")
        #expect(error.description.hasPrefix("/etc/chkserv.d/x: \(field): "))
    }

    @Test func processPatternsAndOwners() {
        let table = ProcessTable(entries: [
            .init(pid: 1, uid: 0, name: "exim", program: "exim", commandLine: "/usr/sbin/exim -bd -q1h"),
            .init(pid: 2, uid: 47, name: "dovecot", program: "dovecot", commandLine: "/usr/sbin/dovecot -F"),
        ])
        #expect(ProcessPattern.parse("exim")!.isSatisfied(by: table.entries))
        #expect(ProcessPattern.parse("exim&&dovecot")!.isSatisfied(by: table.entries))
        #expect(!ProcessPattern.parse("exim&&named")!.isSatisfied(by: table.entries))
        #expect(ProcessPattern.parse("named||dovecot")!.isSatisfied(by: table.entries))
        #expect(ProcessPattern.parse("exim -bd")!.isSatisfied(by: table.entries)) // a command-line fragment
        #expect(!ProcessPattern.parse("exi")!.isSatisfied(by: table.entries)) // names are whole
        #expect(table.owned(by: ["47"]).map(\.pid) == [2])
        #expect(table.owned(by: ["root"]).map(\.pid) == [1])
        #expect(table.owned(by: ["no-such-user-here"]).isEmpty)
        // The real /proc holds this very process, under its real uid.
        let mine = ProcessTable.snapshot().entries.first { $0.pid == getpid() }
        #expect(mine?.uid == getuid())
    }

    @Test func catalogReportsProblemsAndKeepsTheRest() throws {
        let folder = NSTemporaryDirectory() + "chkserv-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "exim:1\nbroken:1\nghost:1\nftpd:0\nnonsense line\ntailwatchd:1\n".write(toFile: folder + "/chkservd.conf", atomically: true, encoding: .utf8)
        try "service[exim]=25,QUIT,220,/bin/true".write(toFile: folder + "/exim", atomically: true, encoding: .utf8)
        try "service[broken]=smtp,QUIT,220".write(toFile: folder + "/broken", atomically: true, encoding: .utf8)
        try "service[ftpd]=21,QUIT,220".write(toFile: folder + "/ftpd", atomically: true, encoding: .utf8)
        let catalog = ServiceCatalog.load(directory: folder, defaults: ServiceLimits())
        #expect(catalog.services.map(\.name) == ["exim"])
        #expect(catalog.problems.count == 3)
        #expect(catalog.problems.contains { $0.contains("/broken: PORT: 'smtp'") })
        #expect(catalog.problems.contains { $0.contains("/ghost: missing") })
        #expect(catalog.problems.contains { $0.contains("chkservd.conf:5:") })
    }
}
