import FleetShipper
import Foundation
import GRDB
import TailWatchComposition
import TailWatchEngine

/// `--status` and `--status=long`: whether the daemon runs, and per driver what it has done,
/// read from the database (the daemon records its counters with every commit).
struct StatusReport {
    let configPath: String

    func print(long: Bool) throws -> Int32 {
        let loaded = try LoadedConfiguration.load(path: configPath)
        let settings = loaded.settings
        switch PidFile.holder(of: settings.pidFile) {
        case .running(let pid): Swift.print("tailwatchd is running (pid \(pid))")
        case .none: Swift.print("tailwatchd is not running")
        }
        guard long else { return 0 }
        Swift.print("config \(loaded.file.path)")
        for refused in loaded.refusedCustomDrivers {
            Swift.print("custom driver refused: \(refused)")
        }
        Swift.print("database \(settings.database)")
        guard FileManager.default.fileExists(atPath: settings.database) else {
            Swift.print("  (no database yet: tailwatchd has not run with this configuration)")
            for (name, configured) in loaded.drivers {
                Swift.print("\(name): \(configured.enabled ? "enabled" : "disabled")")
            }
            return 0
        }
        let queue = try Store.openReader(path: settings.database, modules: DriverRegistry.migrationSets)
        let (size, wal) = Store.sizes(path: settings.database)
        let free = try queue.read { db in try Int64.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0 }
        let pageSize = try queue.read { db in try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 0 }
        Swift.print("  size \(HumanSize.format(size)) (\(size) bytes), WAL \(HumanSize.format(wal)), \(HumanSize.format(free * pageSize)) free inside")
        try queue.read { db in
            for (name, configured) in loaded.drivers {
                if case .timed = configured.work {
                    // It reads no log: its results are in its own report (chkservd: `tailwatch-report services`).
                    Swift.print("\(name): \(configured.enabled ? "enabled" : "disabled"), timed work (no log files; see its report)")
                    continue
                }
                let stats = try Row.fetchOne(db, sql: "SELECT * FROM driver_stats WHERE driver = ?", arguments: [name])
                let checkpoints = try Row.fetchAll(db, sql: "SELECT path, inode, offset FROM checkpoints WHERE driver = ? ORDER BY path", arguments: [name])
                var line = "\(name): \(configured.enabled ? "enabled" : "disabled"), \(checkpoints.count) file\(checkpoints.count == 1 ? "" : "s")"
                if let stats {
                    let lines: Int64 = stats["lines_read"], events: Int64 = stats["events_written"], rejected: Int64 = stats["lines_rejected"]
                    line += ", \(lines) lines read, \(events) events written, \(rejected) lines rejected"
                    if let last: Int64 = stats["last_commit"] {
                        line += ", last commit \(DaemonLogSink.timestampString(Date(timeIntervalSince1970: Double(last))))"
                    }
                } else {
                    line += ", nothing committed yet"
                }
                Swift.print(line)
                for row in checkpoints {
                    let path: String = row["path"], inode: Int64 = row["inode"], offset: Int64 = row["offset"]
                    Swift.print("  \(path): \(Self.behind(path: path, inode: inode, offset: offset))")
                }
                let reasons = try Row.fetchAll(db, sql: "SELECT reason, count, last_path, last_offset FROM rejected_lines WHERE driver = ? ORDER BY count DESC", arguments: [name])
                for r in reasons {
                    let reason: String = r["reason"], count: Int64 = r["count"], path: String = r["last_path"], offset: Int64 = r["last_offset"]
                    Swift.print("  rejected \(count)× \(reason) (last at \(path):\(offset))")
                }
            }
            if let target = loaded.fleet.target {
                if try db.tableExists("fleet_identity") {
                    let lag = try FleetOutbox.lag(db, now: Int64(Date().timeIntervalSince1970))
                    // A copy of every row for the fleet (registration, a restored database) runs in steps.
                    let copying = try db.tableExists("fleet_requeue") && FleetOutbox.requeuePending(db)
                    Swift.print("fleet: host '\(target.host)', \(lag.rows) row\(lag.rows == 1 ? "" : "s") not shipped yet\(lag.rows > 0 ? ", the oldest changed \(lag.seconds) s ago" : "")\(copying ? "; queueing every row of this server again" : "")")
                } else {
                    Swift.print("fleet: host '\(target.host)', the outbox is created when tailwatchd next starts")
                }
            }
        }
        return 0
    }

    static func behind(path: String, inode: Int64, offset: Int64) -> String {
        guard let now = FileIdentity.of(path: path) else { return "missing (waiting for it)" }
        if Int64(bitPattern: now.inode) != inode {
            return "rotated since the last commit; \(now.size) bytes in the new file not read yet"
        }
        return "\(max(0, now.size - offset)) bytes behind the end"
    }
}
