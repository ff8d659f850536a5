import FleetShipper
import Foundation
import ServiceLifecycle

/// The fleet shipper as a ServiceLifecycle service: its loop runs on a thread of its own (libpq
/// blocks) until the daemon shuts down; what it had not shipped waits in the outbox for the next start.
struct FleetService: Service {
    let shipper: FleetShipper

    func run() async throws {
        let shipper = self.shipper
        let finished = AsyncStream<Void>.makeStream()
        let thread = Thread {
            shipper.run()
            finished.continuation.finish()
        }
        thread.name = "fleet-shipper"
        thread.start()
        try? await gracefulShutdown()
        shipper.stop()
        // A batch in flight ends within the connection's timeouts; the daemon's stop does not
        // wait longer than 10 s for it (what was not marked shipped is sent again next time).
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for await _ in finished.stream {} }
            group.addTask { try? await Task.sleep(for: .seconds(10)) }
            await group.next()
            group.cancelAll()
        }
    }
}
