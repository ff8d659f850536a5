import TailWatchEngine

/// One piece of a block of mainlog lines, parsed on whichever thread took it: the events to store,
/// in the log's order, and the lines counted by kind; then the rows the apply step made of them.
///
/// Why: the driver applies events in order on the engine's thread (a delivery needs its
/// message's arrival applied first), while parsing, the other half of the work, runs ahead on a
/// second core. The events borrow the block's buffer and are applied before the block is released.
/// Unchecked: a piece is parsed by one thread, applied on the engine's thread, then written and
/// cleared by one thread; `TwoThreadWalk` orders the three steps.
final class ParsedPiece: @unchecked Sendable {
    // Each step touches these once per line: no dynamic exclusivity checks (the steps never overlap on a piece).
    @exclusivity(unchecked) private(set) var events: [EximEvent] = []
    @exclusivity(unchecked) private(set) var counts = [Int](repeating: 0, count: EximLineKind.allCases.count)
    /// Made by the apply step from `events`, for the write step, with the names it made meanwhile.
    @exclusivity(unchecked) var rows: [MailRow] = []
    var newNames: [ByteLine] = []

    func parse(_ part: inout LineBlock, with box: ParserBox, cutoff: Int64) {
        while let line = part.next() {
            let event = box.parser.parse(line)
            if let outcome = EximStatsDriver.triage(event, cutoff: cutoff, counts: &counts) {
                part.record(outcome)
            } else {
                events.append(event)
                part.stored()
            }
        }
    }

    func clear() {
        events.removeAll(keepingCapacity: true)
        rows.removeAll(keepingCapacity: true)
        newNames.removeAll()
        for k in counts.indices { counts[k] = 0 }
    }
}

/// A parser of its own for each thread that parses pieces (it caches the zone offset).
/// Unchecked: each box is used by one thread (worker) only.
final class ParserBox: @unchecked Sendable {
    var parser: EximLineParser

    init(_ parser: EximLineParser) { self.parser = parser }
}
