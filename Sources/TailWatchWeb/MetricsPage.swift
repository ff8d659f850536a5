import Foundation
import GRDB
import TailWatchComposition
import TailWatchEngine

/// `/metrics` in Prometheus' text format (version 0.0.4).
///
/// The engine's own counters come from `driver_stats` and `rejected_lines` (what `--status=long`
/// shows, committed with the lines they count, so they never run ahead of the data) and from the
/// health board (bytes behind, commit durations). The domain figures are the reports' own totals,
/// so a graph and `tailwatch-report` agree. Every label takes a bounded value: driver, reason,
/// protocol, service and exim_exporter's four flags; never an IP, address or account.
extension WebApp {
    func metrics() -> HTTPResponse {
        var out = MetricsText()
        do {
            try context.reader.read { db in
                let stats = try Row.fetchAll(db, sql: "SELECT driver, lines_read, events_written, lines_rejected, last_commit FROM driver_stats ORDER BY driver")
                out.family("tailwatch_lines_read_total", "counter", "Log lines read and committed, per driver.")
                for r in stats { out.sample("tailwatch_lines_read_total", ["driver": r["driver"]], r["lines_read"] as Int64) }
                out.family("tailwatch_events_written_total", "counter", "Events written to the database, per driver.")
                for r in stats { out.sample("tailwatch_events_written_total", ["driver": r["driver"]], r["events_written"] as Int64) }
                out.family("tailwatch_lines_rejected_total", "counter", "Lines refused as malformed, per driver and reason.")
                for r in try Row.fetchAll(db, sql: "SELECT driver, reason, count FROM rejected_lines ORDER BY driver, reason") {
                    out.sample("tailwatch_lines_rejected_total", ["driver": r["driver"], "reason": r["reason"]], r["count"] as Int64)
                }
                out.family("tailwatch_last_commit_timestamp_seconds", "gauge", "Unix time of the last commit of any driver.")
                out.sample("tailwatch_last_commit_timestamp_seconds", [:], stats.compactMap { $0["last_commit"] as Int64? }.max() ?? 0)
            }
        } catch {
            return internalError("metrics: \(error)")
        }
        let snapshot = health.snapshot
        out.family("tailwatch_bytes_behind", "gauge", "Bytes written to a driver's logs and not read yet.")
        for d in snapshot.drivers { out.sample("tailwatch_bytes_behind", ["driver": d.name], d.bytesBehind) }
        out.family("tailwatch_commit_failing", "gauge", "1 while commits fail (see /healthz for the reason).")
        out.sample("tailwatch_commit_failing", [:], snapshot.failingSince == nil ? 0 : 1)
        let commits = health.commitDurations
        out.family("tailwatch_commit_duration_seconds", "histogram", "How long the engine's commits took since it started.")
        for (i, bound) in EngineHealth.CommitDurations.bounds.enumerated() {
            out.sample("tailwatch_commit_duration_seconds_bucket", ["le": MetricsText.number(bound)], Int64(commits.counts[i]))
        }
        out.sample("tailwatch_commit_duration_seconds_bucket", ["le": "+Inf"], Int64(commits.total))
        out.line("tailwatch_commit_duration_seconds_sum \(MetricsText.number(commits.sumSeconds))")
        out.sample("tailwatch_commit_duration_seconds_count", [:], Int64(commits.total))

        let enabled = Set(context.loaded.enabledDriverNames)
        if enabled.contains("eximstats"), let mail = try? table(["mail", "summary"], []) {
            out.family("exim_messages_total", "counter", "Messages by what exim did with them (exim_exporter's names), as tailwatch-report mail counts them.")
            for (flag, column) in [("arrived", "sent"), ("delivered", "delivered"), ("deferred", "deferred"), ("failed", "failed")] {
                out.sample("exim_messages_total", ["flag": flag], mail.rows.reduce(0) { $0 + mail.integer($1, column) })
            }
        }
        if enabled.contains("cpbandwd"), let bandwidth = try? table(["bandwidth"], [("per", "protocol")]) {
            var perProtocol: [String: Int64] = [:]
            for row in bandwidth.rows { perProtocol[bandwidth.text(row, "protocol"), default: 0] += bandwidth.integer(row, "bytes") }
            out.family("tailwatch_bandwidth_bytes_total", "counter", "Bytes served per protocol, as tailwatch-report bandwidth counts them.")
            for (proto, bytes) in perProtocol.sorted(by: { $0.key < $1.key }) { out.sample("tailwatch_bandwidth_bytes_total", ["protocol": proto], bytes) }
        }
        if enabled.contains("chkservd"), let services = try? table(["services"], []) {
            out.family("tailwatch_service_up", "gauge", "1 when the service's last check passed.")
            for row in services.rows { out.sample("tailwatch_service_up", ["service": services.text(row, "service")], services.text(row, "status") == "up" ? 1 : 0) }
            out.family("tailwatch_service_restarts_total", "counter", "Restarts chkservd made, per service.")
            for row in services.rows { out.sample("tailwatch_service_restarts_total", ["service": services.text(row, "service")], services.integer(row, "restarts")) }
        }
        if enabled.contains("antirelayd"), let relay = try? table(["relayhosts"], []) {
            out.family("tailwatch_relay_hosts", "gauge", "Hosts allowed to relay now (a POP3/IMAP login within the window).")
            out.sample("tailwatch_relay_hosts", [:], Int64(relay.rows.count))
        }
        return HTTPResponse(contentType: "text/plain; version=0.0.4; charset=utf-8", body: Array(out.text.utf8))
    }
}

/// Builds the exposition text: `# HELP`/`# TYPE` once per family, label values escaped.
struct MetricsText {
    private(set) var text = ""

    mutating func family(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    mutating func sample(_ name: String, _ labels: [String: String], _ value: Int64) {
        line(name + Self.labels(labels) + " \(value)")
    }

    mutating func line(_ line: String) { text += line + "\n" }

    static func labels(_ labels: [String: String]) -> String {
        guard !labels.isEmpty else { return "" }
        return "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(escape($0.value))\"" }.joined(separator: ",") + "}"
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }
}
