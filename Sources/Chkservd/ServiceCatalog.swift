import Foundation
import TailWatchEngine

/// The services to check this round, read from the config folder in cPanel's layout:
/// `chkservd.conf` (`name:1` monitored, `name:0` not) and one file per service.
///
/// Read afresh at every round, so an edit in WHM's Service Manager (or by hand) takes effect at
/// the next round without a reload. A problem with one service is reported (file and field) and
/// the others are still checked.
public struct ServiceCatalog: Sendable {
    public var services: [ServiceDefinition] = []
    public var problems: [String] = []

    public static func load(directory: String, defaults: ServiceLimits) -> ServiceCatalog {
        var catalog = ServiceCatalog()
        let conf = directory + "/chkservd.conf"
        guard let data = FileBytes.read(conf) else {
            catalog.problems.append("\(conf): cannot be read; no service is checked")
            return catalog
        }
        // The last line for a name wins, as when the file is read top to bottom by a person.
        var monitored: [(name: String, on: Bool)] = []
        for (index, raw) in String(decoding: data, as: UTF8.self).split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, parts[1] == "0" || parts[1] == "1", !parts[0].isEmpty,
                  !parts[0].contains("/"), parts[0] != "." , parts[0] != ".." else {
                catalog.problems.append("\(conf):\(index + 1): expected 'service:1' or 'service:0', not '\(line)'")
                continue
            }
            monitored.removeAll { $0.name == parts[0] }
            monitored.append((parts[0], parts[1] == "1"))
        }
        for (name, on) in monitored where on {
            if name == SelfCheck.serviceName { continue } // the pseudo-service is built in
            let file = directory + "/" + name
            guard let text = FileBytes.read(file) else {
                catalog.problems.append("\(file): missing; '\(name)' is monitored in chkservd.conf but has no service file")
                continue
            }
            switch ServiceDefinition.parse(String(decoding: text, as: UTF8.self), file: file, defaults: defaults) {
            case .success(let definition):
                if definition.name != name {
                    catalog.problems.append("\(file): service: names '\(definition.name)' but the file is '\(name)'; checked as '\(name)'")
                }
                var d = definition
                d.name = name
                catalog.services.append(d)
            case .failure(let error):
                catalog.problems.append(error.description + "; not checked")
            }
        }
        return catalog
    }
}
