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
        for await _ in finished.stream {}
    }
}
