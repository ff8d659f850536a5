import Foundation
import GRDB
import Logging

/// Carries out the drivers' `RetentionRule`s: once an hour (and at start) each rule looks for rows
/// below its cutoff; while there are some, one slice a tick, each in a short transaction of its
/// own, so ingestion commits between slices and never waits behind more than one.
///
/// A slice is sized by time: it starts at the rule's `firstSlice` (20,000 rows by default),
/// doubles while a full slice's DELETE takes under 20 ms and halves when one takes over 50 ms
/// (1,000 to 200,000 rows), so that a live commit waits at most a few tens of milliseconds behind
/// one (its commit writes the pages the DELETE touched, about as long again). Under `--once` nobody waits for the lock, so each rule is purged to the end at
/// once.
final class RetentionPurge {
    private struct State {
        var slice: Int
        var purging = false
        var purged = 0
        var nextLook = Deadline.distantPast
    }

    private var states: [String: State] = [:]
    private let once: Bool

    init(once: Bool) {
        self.once = once
    }

    /// The next slice of each of `rules` that is due, each committed on its own.
    func step(_ db: Database, rules: [RetentionRule], driver: String, logger: Logger) throws {
        for rule in rules {
            let id = driver + "\u{0}" + rule.table
            var state = states[id] ?? State(slice: rule.firstSlice)
            defer { states[id] = state }
            guard state.purging || state.nextLook.hasPassed, let cutoff = rule.cutoff(Date()) else { continue }
            repeat {
                try slice(db, rule: rule, cutoff: cutoff, state: &state, logger: logger)
            } while once && state.purging
        }
    }

    private func slice(_ db: Database, rule: RetentionRule, cutoff: Int64, state: inout State, logger: Logger) throws {
        let key = rule.key.joined(separator: ", ")
        let target = rule.key.count == 1 ? key : "(\(key))"
        var removed = 0
        var spent = 0.0
        try db.inTransaction(.immediate) {
            // The DELETE is what grows with the slice; the commit's cost is the pages it wrote.
            let started = Deadline.now
            try db.execute(
                sql: "DELETE FROM \(rule.table) WHERE \(target) IN (SELECT \(key) FROM \(rule.table) WHERE \(rule.column) < ? LIMIT ?)",
                arguments: [cutoff, state.slice])
            removed = db.changesCount
            spent = started.secondsAgo
            return .commit
        }
        let full = removed == state.slice
        if full, spent < 0.02 {
            state.slice = min(state.slice * 2, 200_000)
        } else if spent > 0.05 {
            state.slice = max(state.slice / 2, 1000)
        }
        state.purged += removed
        if full, !state.purging { logger.info("purging \(rule.label) older than the retention, a slice each second") }
        state.purging = full
        if !full {
            state.nextLook = .after(seconds: 3600)
            if state.purged > 0 { logger.info("purged \(state.purged) \(rule.label) older than the retention") }
            state.purged = 0
        }
    }
}
