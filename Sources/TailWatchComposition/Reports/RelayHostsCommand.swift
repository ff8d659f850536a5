import Antirelayd
import ArgumentParser
import Foundation
import TailWatchEngine

/// `tailwatch-report relayhosts [--window MIN] [--export PATH] [--users-export PATH]`: the hosts
/// that may relay now, or (the cron entry point) the whitelist files exim reads.
struct RelayHostsCommand: TableReport {
    static let requiredModules = ["Antirelayd"]
    static let configuration = CommandConfiguration(
        commandName: "relayhosts",
        abstract: "Hosts with a successful POP3/IMAP login within the window (POP-before-SMTP); --export writes exim's whitelist.",
        discussion: """
            With --export and/or --users-export, writes cPanel's files atomically (one IP per line; \
            'IP: user1, user2', most recent first), merged with the config's 'alwaysrelay' list, and prints \
            nothing; a file whose content is unchanged is not rewritten. Example crontab line: \
            '* * * * * root tailwatch-report relayhosts --export /etc/recent_authed_mail_ips --users-export /etc/recent_authed_mail_ips_users'
            """)

    @ParentCommand var parent: ReportCommand

    @Option(help: ArgumentHelp("Minutes back from now (default: the config's expire_minutes).", valueName: "minutes"))
    var window: Int?

    @Option(help: ArgumentHelp("Write the hosts here (cPanel: /etc/recent_authed_mail_ips).", valueName: "path"))
    var export: String?

    @Option(name: .customLong("users-export"), help: ArgumentHelp("Write 'IP: users' here (cPanel: /etc/recent_authed_mail_ips_users).", valueName: "path"))
    var usersExport: String?

    @Option(help: "Output format: table (default), json or csv.")
    var format: ReportTable.Format = .table

    func validate() throws {
        if let window, !(1...10080).contains(window) {
            throw CommandFailure.usage("--window must be between 1 and 10080 minutes, not \(window)")
        }
        for path in [export, usersExport].compactMap({ $0 }) where path.isEmpty || path.hasSuffix("/") {
            throw CommandFailure.usage("--export/--users-export need a file path, not '\(path)'")
        }
    }

    private func settings(_ loaded: LoadedConfiguration) throws -> AntirelaydSettings {
        do {
            return try AntirelaydSettings(loaded.file.section("antirelayd"))
        } catch {
            throw CommandFailure.usage(error.description)
        }
    }

    private func whitelist(_ context: ReportContext) throws -> RelayWhitelist {
        let settings = try settings(context.loaded)
        let windowSeconds = Int64(window ?? settings.expireMinutes) * 60
        let local = LocalAddresses(configured: settings.localAddresses)
        let now = Int64(Date().timeIntervalSince1970)
        return try context.reader.read { db in
            try RelayWhitelist.load(db, now: now, windowSeconds: windowSeconds, local: local)
        }
    }

    func table(_ context: ReportContext) throws -> ReportTable {
        ReportTable(
            columns: ["ip", "users", "last_login"],
            rows: try whitelist(context).entries.map { [.text($0.host.description), .list($0.users), .time($0.lastLogin)] })
    }

    static let answersFromFleet = true

    /// Every server's hosts within the window (this server's `expire_minutes` unless `--window`).
    /// Only loopback and unspecified addresses are left out: which addresses are a server's own
    /// is known on that server, not here.
    func fleetTable(_ fleet: FleetContext) throws -> ReportTable {
        try fleet.require(schema: 2, for: "relay logins")
        let windowSeconds = Int64(try window ?? settings(fleet.loaded).expireMinutes) * 60
        let servers = try RelayWhitelist.perServer(
            fleet.rows, host: fleet.host, now: Int64(Date().timeIntervalSince1970), windowSeconds: windowSeconds, local: LocalAddresses(networks: []))
        return ReportTable(
            columns: ["host", "ip", "users", "last_login"],
            rows: servers.flatMap { server in
                server.whitelist.entries.map { [.text(server.host ?? ""), .text($0.host.description), .list($0.users), .time($0.lastLogin)] }
            })
    }

    func run() throws {
        guard export != nil || usersExport != nil else {
            return try printReport(parent, format: format)
        }
        guard !parent.fleet else {
            throw CommandFailure.usage("--export writes this server's whitelist from its own logins; it takes no --fleet")
        }
        let (queue, loaded) = try ReportDatabase.open(configPath: parent.config, requiring: Self.requiredModules)
        let settings = try settings(loaded)
        var whitelist = try whitelist(ReportContext(reader: queue, loaded: loaded))
        if let path = settings.alwaysRelay {
            let always = AlwaysRelay.load(path: path)
            for problem in always.problems { FileHandle.standardError.write(Data("tailwatch-report: warning: \(problem)\n".utf8)) }
            whitelist.merge(always)
        }
        do {
            _ = try whitelist.export(hosts: export.map(absolute), users: usersExport.map(absolute), mode: settings.exportMode)
        } catch {
            throw CommandFailure.runtime(error.description)
        }
    }

    private func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}
