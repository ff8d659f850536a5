import Foundation

/// "1.2 GiB of 3.4 GiB (35%), 1.31M lines/s" on standard error while `--once` catches up, redrawn
/// in place twice a second. Only used when standard error is a terminal.
final class CatchUpProgress {
    private let total: Int64
    private let started = Deadline.now
    private var startOffsets: Int64? = nil
    private var lastDraw = Deadline.distantPast
    private var drew = false

    init(total: Int64) {
        self.total = total
    }

    func update(read offsets: Int64, lines: Int) {
        if startOffsets == nil { startOffsets = offsets }
        guard lastDraw.secondsAgo >= 0.5, total > 0 else { return }
        lastDraw = .now
        let done = max(0, offsets - (startOffsets ?? 0))
        let elapsed = max(0.001, started.secondsAgo)
        let percent = min(100, Int(Double(done) * 100 / Double(total)))
        let rate = Double(lines) / elapsed
        let line = "\r\(HumanSize.format(done)) of \(HumanSize.format(total)) (\(percent)%), \(String(format: "%.2fM", rate / 1e6)) lines/s   "
        FileHandle.standardError.write(Data(line.utf8))
        drew = true
    }

    func finish() {
        if drew { FileHandle.standardError.write(Data("\n".utf8)) }
    }

}
