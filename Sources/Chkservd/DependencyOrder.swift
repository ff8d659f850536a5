/// The order a round checks services in: those without dependencies first, side by side, then
/// those whose dependencies are all in earlier levels, and so on.
///
/// Why levels: a dependent must be judged after its dependency's check (and restart) in the same
/// round, so that a database that was restarted is not followed by restarting everything that
/// uses it; services at one level still run side by side, so a hung one delays only its own.
enum DependencyOrder {
    /// `monitored`: every service of the catalog, including those this round leaves out (still
    /// being checked since an earlier round: a dependency on one is dropped for this round,
    /// silently). `problems` hears of a dependency that is not monitored (ignored) and of a cycle
    /// (its services are checked last, as if they had no dependencies).
    static func levels(of services: [ServiceDefinition], monitored: Set<String>? = nil, problems: (String) -> Void) -> [[ServiceDefinition]] {
        let names = Set(services.map(\.name))
        let known = monitored ?? names
        var waiting: [ServiceDefinition] = []
        for var service in services {
            let unknown = service.dependsOn.filter { !known.contains($0) }
            if !unknown.isEmpty {
                problems("\(service.name): depends on \(unknown.joined(separator: ", ")), not monitored; checked without \(unknown.count == 1 ? "it" : "them")")
            }
            service.dependsOn.removeAll { !names.contains($0) }
            waiting.append(service)
        }
        var placed = Set<String>()
        var levels: [[ServiceDefinition]] = []
        while !waiting.isEmpty {
            let ready = waiting.filter { $0.dependsOn.allSatisfy(placed.contains) }
            guard !ready.isEmpty else {
                problems("\(waiting.map(\.name).sorted().joined(separator: ", ")): their dependencies form a cycle; checked last, without them")
                levels.append(waiting.map { var s = $0; s.dependsOn = []; return s })
                break
            }
            levels.append(ready)
            placed.formUnion(ready.map(\.name))
            waiting.removeAll { placed.contains($0.name) }
        }
        return levels
    }
}
