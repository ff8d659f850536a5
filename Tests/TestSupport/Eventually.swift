import Foundation

/// Waits for something a daemon thread does (a file written after a commit): true as soon as
/// `condition` holds, false if it still does not after `timeout` seconds. Never a timing assertion:
/// the timeout only bounds how long a failing test hangs.
public func eventually(timeout: Double = 15, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// `eventually` for async tests: waits with `Task.sleep`, so the cooperative threads the code under
/// test needs stay free.
public func awaitUntil(timeout: Double = 15, _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try condition()
}
