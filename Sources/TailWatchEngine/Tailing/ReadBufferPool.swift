/// The read buffers of an engine's files: a file holds one only while it has bytes to read.
///
/// Why a pool: a read buffer is a megabyte (room for the longest line), and a hosting server has
/// 20,000 domlogs. A file that is read to its end with no partial line left gives its buffer back;
/// the next file to read takes it, so the memory touched is a few buffers whatever the number of
/// files. Read-ahead during a catch-up takes its second buffer from here too (only one file reads
/// ahead at a time: the engine's thread pumps one file at a time and waits for each read).
final class ReadBufferPool {
    private var free: [UnsafeMutablePointer<UInt8>] = []
    private var capacity = 0
    /// Buffers kept for reuse; more are freed. One for a read-ahead, one for the file being read.
    private let keep = 2
    /// What a file without a buffer points at: nothing is ever read into or out of it.
    let none = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)

    init() {}

    deinit {
        for pointer in free { pointer.deallocate() }
        none.deallocate()
    }

    /// A buffer of `wanted` bytes, now the caller's until it `give`s one back.
    func take(capacity wanted: Int) -> UnsafeMutablePointer<UInt8> {
        if wanted != capacity {
            for pointer in free { pointer.deallocate() }
            free = []
            capacity = wanted
        }
        return free.popLast() ?? .allocate(capacity: wanted)
    }

    /// Hands a buffer of `capacity` bytes back (the one taken, or one it replaced).
    func give(_ buffer: UnsafeMutablePointer<UInt8>, capacity given: Int) {
        if given == capacity && free.count < keep {
            free.append(buffer)
        } else {
            buffer.deallocate()
        }
    }
}
