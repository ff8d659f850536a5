import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One `read(2)` of a log's next chunk, made on another thread while the engine's thread hands the
/// chunk before it to a driver.
///
/// Why: in a catch-up the kernel's copy of the file into the read buffer is about a tenth of the
/// work, and while the engine's thread makes it, a driver that parses on two cores has nothing to
/// parse. Reading the next chunk meanwhile (into a second buffer) takes it off that path. Exactly
/// one read is in flight, on the tailer's own descriptor, and the tailer waits for it before it
/// looks at the descriptor's position again or lets go of the buffer.
final class ReadAhead: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    // Written by the reading thread before it signals `done`, read after `wait()`.
    private var count = 0
    private var error: Int32 = 0

    /// Starts reading up to `capacity` bytes of `fd` into `destination`.
    init(fd: Int32, into destination: UnsafeMutablePointer<UInt8>, capacity: Int) {
        let target = UnsafeSendablePointer(pointer: destination)
        DispatchQueue.global().async { [self] in
            var n: Int
            repeat { n = read(fd, target.pointer, capacity) } while n < 0 && errno == EINTR
            count = n
            error = n < 0 ? errno : 0
            done.signal()
        }
    }

    /// Waits for the read: the bytes read (0 at end of file, -1 on an error) and the error number.
    func wait() -> (count: Int, error: Int32) {
        done.wait()
        return (count, error)
    }
}

private struct UnsafeSendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<UInt8>
}

/// The second read buffer of an engine, shared by all its files.
///
/// Why one: only one file reads ahead at a time (the engine's thread pumps one file at a time and
/// waits for each read before it goes on), so a buffer per file would only add a megabyte per log
/// with a backlog (thousands after a long stop). A file that reads ahead takes the buffer, and
/// gives its old one back when the two trade places.
final class SpareBuffer {
    private var pointer: UnsafeMutablePointer<UInt8>?
    private var capacity = 0

    init() {}

    deinit { pointer?.deallocate() }

    /// The buffer (allocated when there is none of this size), now the caller's until it `give`s one back.
    func take(capacity wanted: Int) -> UnsafeMutablePointer<UInt8> {
        if let pointer, capacity == wanted {
            self.pointer = nil
            return pointer
        }
        pointer?.deallocate()
        pointer = nil
        return .allocate(capacity: wanted)
    }

    /// Hands a buffer of `capacity` bytes back (the one taken, or the one it replaced).
    func give(_ buffer: UnsafeMutablePointer<UInt8>, capacity: Int) {
        pointer?.deallocate()
        pointer = buffer
        self.capacity = capacity
    }
}
