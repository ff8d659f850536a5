import Foundation
import GRDB
import Logging
import Synchronization
import TailWatchEngine

/// chkservd's rows: one `service_checks` row per check and the `service_state` it leaves, written
/// together in one transaction on the timed work's connection, from whichever thread finished the
/// check. The state is read back from the database before each check, so a check finishing after
/// a reload and the next round's check of that service see the same state.
///
/// A result the database refuses (disk full) is kept and written again before the next round:
/// the restart it records has happened, and the failure count must not start over.
final class ServiceRecords: Sendable {
    private let database: DatabaseQueue
    private let logger: Logger
    private let unrecorded = Mutex<[(CheckRecord, ServiceState)]>([])

    init(database: DatabaseQueue, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    func state(of service: String) -> ServiceState {
        let row = try? database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM service_state WHERE service = ?", arguments: [service])
        }
        var state = ServiceState()
        guard let row = row ?? nil else { return state }
        state.status = ServiceStatus(rawValue: row["status"]) ?? .unknown
        state.consecutiveFailures = row["consecutive_failures"]
        state.lastRestart = (row["last_restart"] as Int64?).map { Date(timeIntervalSince1970: Double($0)) }
        state.notified = Notified(rawValue: row["notified"]) ?? .none
        state.flappingSince = (row["flapping_since"] as Int64?).map { Date(timeIntervalSince1970: Double($0)) }
        state.flapCountFrom = (row["flap_count_from"] as Int64?).map { Date(timeIntervalSince1970: Double($0)) }
        return state
    }

    /// What flap protection weighs: restarts among the service's last `rounds` checks (not before
    /// `since`), and the details of its last few checks, the evidence a `flapping` notice carries.
    func history(of service: String, rounds: Int, since: Date?) -> (restarts: Int, lastDetails: [String]) {
        let rows = (try? database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT time, action, status, detail FROM service_checks WHERE service = ? AND time >= ? ORDER BY time DESC, rowid DESC LIMIT ?",
                arguments: [service, Int64(since?.timeIntervalSince1970 ?? 0), rounds])
        }) ?? []
        let restarts = rows.filter { ($0["action"] as String?) == CheckRecord.Action.restart.rawValue }.count
        let details = rows.prefix(5).map { row -> String in
            let time = Date(timeIntervalSince1970: Double(row["time"] as Int64))
            return "\(ISO8601DateFormatter().string(from: time)) \(row["status"] as String): \(row["detail"] as String)"
        }
        return (restarts, details)
    }

    /// A reload or a start of the daemon lifts every flap hold (the operator acted): the services
    /// are judged afresh, their earlier restarts no longer counted.
    func liftFlapHolds(now: Date) -> [String] {
        do {
            return try database.write { db in
                let held = try String.fetchAll(db, sql: "SELECT service FROM service_state WHERE flapping_since IS NOT NULL ORDER BY service")
                try db.execute(
                    sql: "UPDATE service_state SET flapping_since = NULL, flap_count_from = ? WHERE flapping_since IS NOT NULL",
                    arguments: [Int64(now.timeIntervalSince1970)])
                return held
            }
        } catch {
            logger.warning("lifting flap holds: \(error)")
            return []
        }
    }

    func record(_ record: CheckRecord, _ state: ServiceState) {
        do {
            try write([(record, state)])
        } catch {
            logger.error("result of the check of \(record.service) not recorded (tried again before the next round): \(error)")
            unrecorded.withLock { $0.append((record, state)) }
        }
    }

    func retryUnrecorded() {
        let waiting = unrecorded.withLock { pending in
            defer { pending = [] }
            return pending
        }
        guard !waiting.isEmpty else { return }
        do {
            try write(waiting)
        } catch {
            logger.error("\(waiting.count) check result(s) still not recorded: \(error)")
            unrecorded.withLock { $0.insert(contentsOf: waiting, at: 0) }
        }
    }

    func knownServices() -> [String] {
        (try? database.read { db in try String.fetchAll(db, sql: "SELECT service FROM service_state") }) ?? []
    }

    func forget(_ service: String) {
        do {
            try database.write { db in try db.execute(sql: "DELETE FROM service_state WHERE service = ?", arguments: [service]) }
        } catch {
            logger.warning("forgetting \(service), no longer monitored: \(error)")
        }
    }

    private func write(_ results: [(CheckRecord, ServiceState)]) throws {
        try database.write { db in
            for (record, state) in results {
                try db.execute(
                    sql: """
                        INSERT INTO service_checks (time, service, status, passed, socket, process, latency_ms, action, detail)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        Int64(record.time.timeIntervalSince1970), record.service, record.status.rawValue,
                        record.passed.map { $0 ? 1 : 0 }, record.socket.map { $0 ? 1 : 0 }, record.process.map { $0 ? 1 : 0 },
                        record.latency.map { Int64(($0 * 1000).rounded()) }, record.action.rawValue, record.detail,
                    ])
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO service_state (service, status, consecutive_failures, last_restart, failure_notified, last_check,
                                                              notified, flapping_since, flap_count_from)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        record.service, state.status.rawValue, state.consecutiveFailures,
                        state.lastRestart.map { Int64($0.timeIntervalSince1970) }, state.notified == .none ? 0 : 1,
                        Int64(record.time.timeIntervalSince1970), state.notified.rawValue,
                        state.flappingSince.map { Int64($0.timeIntervalSince1970) }, state.flapCountFrom.map { Int64($0.timeIntervalSince1970) },
                    ])
            }
        }
    }
}
