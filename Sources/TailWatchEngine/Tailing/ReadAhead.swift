import Foundation

import Glibc

/// One `read(2)` of a log's next chunk, made on another thread while the engine's thread hands the
/// chunk before it to a driver.
///
/// Why: in a catch-up the kernel's copy of the file into the read buffer is about a tenth of the
/// work, and while the engine's thread makes it, a driver that parses on two cores has nothing to
/// parse. Reading the next chunk meanwhile (into a second buffer) takes it off that path. Exactly
/// one read is in flight, on the tailer's own descriptor, and the tailer waits for it before it
/// looks at the descriptor's position again or lets go of the buffer.
/// Unchecked: the buffer and result are written by the one reading thread and read by the
/// tailer only after `wait()` (a semaphore orders the two).
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

/// The buffer handed to the reading thread.
/// Unchecked: the tailer does not touch the buffer until `wait()` returns (see `ReadAhead`).
private struct UnsafeSendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<UInt8>
}
