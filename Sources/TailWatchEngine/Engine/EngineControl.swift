import Synchronization

/// How other threads talk to a running engine: ask it to stop (SIGTERM) or to reload (SIGHUP).
///
/// Why flags plus a wake-up: the engine sleeps in `poll()`; setting a flag alone would only be seen
/// at the next timeout, so every request also writes to the engine's self-pipe.
public final class EngineControl: Sendable {
    private let stopFlag = Atomic<Bool>(false)
    private let reloadFlag = Atomic<Bool>(false)
    let wakeHandle = WakeHandle()

    public init() {}

    /// Commit what is parsed, save positions, and return from `run()`.
    public func requestStop() {
        stopFlag.store(true, ordering: .releasing)
        wakeHandle.wake()
    }

    /// Commit, then return from `run()` with `.reloadRequested` so the caller re-reads the config.
    public func requestReload() {
        reloadFlag.store(true, ordering: .releasing)
        wakeHandle.wake()
    }

    var stopRequested: Bool { stopFlag.load(ordering: .acquiring) }

    func takeReload() -> Bool { reloadFlag.exchange(false, ordering: .acquiringAndReleasing) }
}
