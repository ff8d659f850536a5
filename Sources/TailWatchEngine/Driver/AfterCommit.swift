import Logging

/// Effects outside the database that may only follow committed state: marker files Apache and exim
/// read, the relay whitelist, notifications, and a driver's in-memory mirror of what is committed.
/// A transactional outbox, one per engine.
///
/// Why one: every driver with such effects used to keep its own "stage it, act after the commit,
/// forget it on a rollback" state machine, each with its own idea of what a failure means. Here a
/// driver registers an effect while it works inside the engine's transaction (`ingest`, `flush`,
/// `tick`); the engine runs the effects after that transaction commits, in the order they were
/// registered, and drops them when it rolls back (calling each one's `ifDropped`, for a driver
/// that must redo the work later). An effect that throws was committed all the same: it is logged
/// (once a minute per label, with the error) and tried again after each later commit (the engine
/// commits at least once a second) until it succeeds or a newer effect with the same `key`
/// replaces it.
///
/// Used on the engine's thread only, like the drivers that register effects.
public final class AfterCommit {
    private struct Effect {
        let label: String
        let key: String?
        let run: () throws -> Void
        let ifDropped: (() -> Void)?
    }

    /// Registered inside the open transaction; run after its commit or dropped on its rollback.
    private var staged: [Effect] = []
    /// Committed, but their last run failed; run again after the next commit.
    private var failing: [Effect] = []
    private var lastReported: [String: Deadline] = [:]
    private let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Registers `run` for after the current transaction commits. `key`: a later effect with the
    /// same key replaces this one if it has not run successfully yet (the newest whitelist is the
    /// one to write). `ifDropped`: called instead of `run` when the transaction rolls back.
    public func add(_ label: String, key: String? = nil, ifDropped: (() -> Void)? = nil, _ run: @escaping () throws -> Void) {
        if let key {
            staged.removeAll { $0.key == key }
            failing.removeAll { $0.key == key }
        }
        staged.append(Effect(label: label, key: key, run: run, ifDropped: ifDropped))
    }

    /// Forgets the effects whose key matches, staged or failing, without running them: a decision
    /// that settles them all (every marker file of a folder set at once) supersedes them.
    public func cancel(keysWhere matches: (String) -> Bool) {
        staged.removeAll { $0.key.map(matches) ?? false }
        failing.removeAll { $0.key.map(matches) ?? false }
    }

    /// Effects registered and not yet run or dropped, and failed ones waiting for a retry.
    public var count: Int { staged.count + failing.count }

    /// The transaction committed: earlier failures first (they are older), then this one's effects.
    func committed() {
        guard !staged.isEmpty || !failing.isEmpty else { return }
        let due = failing + staged
        failing = []
        staged = []
        for effect in due {
            do {
                try effect.run()
                lastReported[effect.label] = nil
            } catch {
                failing.append(effect)
                report(effect.label, error)
            }
        }
    }

    /// The transaction rolled back: its effects never happened. Failed committed ones stay.
    func rolledBack() {
        let dropped = staged
        staged = []
        for effect in dropped { effect.ifDropped?() }
    }

    private func report(_ label: String, _ error: any Error) {
        if let last = lastReported[label], last.secondsAgo < 60 { return }
        lastReported[label] = .now
        logger.error("\(label) failed after its commit (retried after every commit): \(error)")
    }
}
