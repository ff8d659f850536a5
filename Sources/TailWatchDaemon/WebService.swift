import Foundation
import Logging
import ServiceLifecycle
import TailWatchComposition
import TailWatchEngine
import TailWatchWeb

/// The `[http]` page as a ServiceLifecycle service beside the engine: serves from a read-only
/// pool of its own until the daemon shuts down.
///
/// Why a failure to listen does not stop the daemon: ingestion is what must never stop; a port
/// taken by something else is logged as an error (with the address) and the logs go on being read.
struct WebService: Service {
    let server: HTTPServer
    let logger: Logger

    /// The server for `loaded`'s `[http]`, or nil when it is off or cannot listen (logged).
    static func make(loaded: LoadedConfiguration, health: EngineHealth, logger: Logger) -> WebService? {
        guard case .on(let address, let port) = loaded.http.listen else { return nil }
        do {
            let pool = try Store.openReaderPool(path: loaded.settings.database, modules: DriverRegistry.migrationSets)
            let app = WebApp(context: ReportContext(reader: pool, loaded: loaded), health: health, hostName: ProcessInfo.processInfo.hostName, logger: logger)
            let server = try HTTPServer(address: address, port: port, logger: logger) { app.handle($0) }
            return WebService(server: server, logger: logger)
        } catch let error as HTTPServer.StartError {
            logger.error("web page off: \(error.description) ([http] listen in the config; ingestion goes on)")
        } catch {
            logger.error("web page off: \(error)")
        }
        return nil
    }

    func run() async throws {
        server.start()
        logger.info("web page, API and /metrics on http://\(server.addressDescription)/")
        try? await gracefulShutdown()
        server.stop()
    }
}
