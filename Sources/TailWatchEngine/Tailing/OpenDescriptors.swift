import Glibc

/// How many log files an engine holds open, against how many it may.
///
/// Why a budget: each followed file holds a descriptor (so that a log renamed away is still read to
/// its end, and a read costs no `open`), and a server with 20,000 domlogs needs more than the usual
/// soft limit of 1,024. The daemon raises its soft limit to the hard one at start; past the budget,
/// the engine closes the files idle the longest (`TailedFile.suspend`) and reopens them by content
/// (as after a restart) when they change.
final class OpenDescriptors {
    private(set) var count = 0
    /// Open log files allowed at once.
    let budget: Int

    init(budget: Int) {
        self.budget = max(4, budget)
    }

    func opened() { count += 1 }
    func closed() { count -= 1 }

    var overBudget: Bool { count > budget }

    /// Room for what is not a log (the database and its WAL, inotify, pipes, sockets of service
    /// checks, helper programs of custom drivers).
    static let reserve = 256

    /// Raises the soft limit on open files to the hard limit and returns the budget that leaves
    /// `reserve` descriptors for everything else.
    static func raiseLimitAndBudget() -> Int {
        var limit = rlimit()
        guard getrlimit(resourceLimitNoFile, &limit) == 0 else { return 1024 - reserve }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(resourceLimitNoFile, &raised) == 0 { limit = raised }
        }
        // RLIM_INFINITY is not a count: cap the budget at something a process can hold.
        let soft = limit.rlim_cur >= UInt64(Int32.max) ? 1 << 20 : Int(limit.rlim_cur)
        return max(16, soft - reserve)
    }

    private static let resourceLimitNoFile = Int32(RLIMIT_NOFILE.rawValue)
}
