import TailWatchEngine

/// One piece of a block of mainlog lines: the events to store, in the log's order, with the bytes
/// of their lines, the lines counted by kind, and then what the apply step found for each event.
///
/// Why: the driver parses on two threads, applies events in order on the engine's thread (a
/// delivery needs its message's arrival applied first), and writes their rows on whichever thread
/// is free, also after the block is gone (`PipelinedWalk`): so the piece keeps a copy of the lines
/// it stores (`bytes`), and its events point into that copy, not into the block's buffer.
/// Unchecked: a piece is parsed by one thread, applied on the engine's thread, then written and
/// cleared by one thread; `PipelinedWalk` orders the three steps.
final class ParsedPiece: @unchecked Sendable {
    // Each step touches these once per line: no dynamic exclusivity checks (the steps never overlap on a piece).
    @exclusivity(unchecked) private(set) var events: [EximEvent] = []
    @exclusivity(unchecked) private(set) var counts = [Int](repeating: 0, count: EximLineKind.allCases.count)
    /// Made by the apply step, one per event: its message's sender, when known (nil for a
    /// rejection, and for a delivery whose sender the write step is to find).
    @exclusivity(unchecked) var senders: [MessageSender?] = []
    /// The names the apply step made while applying this piece, for the write step.
    var newNames: [ByteLine] = []
    /// The stored lines, one after another; at least as large as the part being parsed, so it
    /// never moves while events point into it.
    private var bytes: UnsafeMutablePointer<UInt8>
    private var capacity: Int

    init() {
        capacity = 64 << 10
        bytes = .allocate(capacity: capacity)
    }

    deinit { bytes.deallocate() }

    func parse(_ part: inout LineBlock, with box: ParserBox, cutoff: Int64) {
        if part.remainingBytes > capacity {
            bytes.deallocate()
            capacity = part.remainingBytes
            bytes = .allocate(capacity: capacity)
        }
        var used = 0
        while let line = part.next() {
            // Parsed from its copy: the event's fields then point into it. A line not stored
            // leaves the room to the next.
            let copy = bytes + used
            copy.update(from: line.base, count: line.count)
            let event = box.parser.parse(ByteLine(base: copy, count: line.count))
            if let outcome = EximStatsDriver.triage(event, cutoff: cutoff, counts: &counts) {
                part.record(outcome)
            } else {
                events.append(event)
                part.stored()
                used += line.count
            }
        }
    }

    func clear() {
        events.removeAll(keepingCapacity: true)
        senders.removeAll(keepingCapacity: true)
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

/// The retention cutoff, as the threads that parse a block read it (set before each block).
/// Unchecked: written by the engine's thread before `PipelinedWalk.run` hands out the block's
/// pieces (under its lock), read by the parsing threads during the run only.
final class CutoffBox: @unchecked Sendable {
    var value: Int64 = .min
}
