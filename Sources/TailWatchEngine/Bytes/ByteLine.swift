import Glibc

/// One log line as raw bytes, without its line terminator, borrowed from the tailer's read buffer.
///
/// Why not `String`: decoding and allocating a `String` per line costs more than everything else a
/// driver does with it. A `ByteLine` is a pointer and a length; it is valid only during the call that
/// hands it out, so a driver copies what it keeps (the store copies bound text itself).
/// Unchecked: a borrowed pointer, valid only during the call that hands it out (see above); it
/// crosses threads only inside a split `LineBlock`, whose buffer nobody writes meanwhile.
/// (`Span<UInt8>` would make the borrow checked, but cannot be stored in a struct that escapes.)
public struct ByteLine: @unchecked Sendable {
    public let base: UnsafePointer<UInt8>
    public let count: Int

    @inlinable public init(base: UnsafePointer<UInt8>, count: Int) {
        self.base = base
        self.count = count
    }

    @inlinable public subscript(_ index: Int) -> UInt8 { base[index] }

    /// The bytes in `range` as a sub-line (no copy).
    @inlinable public func slice(_ range: Range<Int>) -> ByteLine {
        ByteLine(base: base + range.lowerBound, count: range.count)
    }

    /// First index of `byte` at or after `from`, found with `memchr`.
    @inlinable public func firstIndex(of byte: UInt8, from: Int = 0) -> Int? {
        guard from < count else { return nil }
        guard let hit = memchr(base + from, Int32(byte), count - from) else { return nil }
        return UnsafeRawPointer(hit) - UnsafeRawPointer(base)
    }

    /// Last index of `byte`, scanning backwards.
    @inlinable public func lastIndex(of byte: UInt8) -> Int? {
        var i = count - 1
        while i >= 0 {
            if base[i] == byte { return i }
            i -= 1
        }
        return nil
    }

    /// First index at or after `from` where `needle` starts (memchr for its first byte, then memcmp).
    @inlinable public func firstIndex(of needle: StaticString, from: Int = 0) -> Int? {
        let n = needle.utf8CodeUnitCount
        guard n > 0 else { return from <= count ? from : nil }
        let first = needle.utf8Start[0]
        var i = from
        while i + n <= count, let hit = firstIndex(of: first, from: i) {
            guard hit + n <= count else { return nil }
            if memcmp(base + hit, needle.utf8Start, n) == 0 { return hit }
            i = hit + 1
        }
        return nil
    }

    /// Whether the bytes at `at` spell `literal`.
    @inlinable public func matches(_ literal: StaticString, at: Int) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard at >= 0, at + n <= count else { return false }
        return memcmp(base + at, literal.utf8Start, n) == 0
    }

    @inlinable public func hasPrefix(_ literal: StaticString) -> Bool { matches(literal, at: 0) }

    /// Byte order (SQLite's BINARY collation): whether these bytes sort before `other`'s.
    @inlinable public func sortsBefore(_ other: ByteLine) -> Bool {
        let common = Swift.min(count, other.count)
        let order = common == 0 ? 0 : memcmp(base, other.base, common)
        return order != 0 ? order < 0 : count < other.count
    }

    /// Whether the line holds a NUL byte (never a legitimate part of a text log line).
    @inlinable public var containsNUL: Bool { firstIndex(of: 0) != nil }

    /// The bytes decoded as UTF-8, invalid sequences replaced by U+FFFD. Cold path only.
    public var string: String {
        String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self)
    }

    /// Whether every byte is ASCII or the bytes form valid UTF-8.
    public var isValidUTF8: Bool {
        var i = 0
        // Fast path: eight ASCII bytes at a time.
        while i + 8 <= count {
            let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            if word & 0x8080_8080_8080_8080 != 0 { break }
            i += 8
        }
        while i < count {
            let b = base[i]
            if b < 0x80 { i += 1; continue }
            let need: Int
            if b & 0xE0 == 0xC0, b >= 0xC2 { need = 1 }
            else if b & 0xF0 == 0xE0 { need = 2 }
            else if b & 0xF8 == 0xF0, b <= 0xF4 { need = 3 }
            else { return false }
            guard i + need < count else { return false }
            for k in 1...need where base[i + k] & 0xC0 != 0x80 { return false }
            // Reject overlong 3/4-byte forms and surrogates.
            if need == 2 {
                let b1 = base[i + 1]
                if b == 0xE0 && b1 < 0xA0 { return false }
                if b == 0xED && b1 >= 0xA0 { return false }
            } else if need == 3 {
                let b1 = base[i + 1]
                if b == 0xF0 && b1 < 0x90 { return false }
                if b == 0xF4 && b1 >= 0x90 { return false }
            }
            i += need + 1
        }
        return true
    }

    /// Parses the whole slice as a non-negative decimal integer; nil when empty, non-digit or too big.
    @inlinable public var decimalValue: Int64? {
        guard count > 0, count <= 18 else { return nil }
        var value: Int64 = 0
        for i in 0..<count {
            let d = base[i] &- 0x30
            guard d < 10 else { return nil }
            value = value &* 10 &+ Int64(d)
        }
        return value
    }
}

extension ByteLine: CustomStringConvertible {
    public var description: String { string }
}

/// Runs `body` with a `ByteLine` over the UTF-8 of `text`; for tests and cold paths.
/// `bytes` as a `ByteLine` for the duration of `body` (an empty array too).
public func withByteLine<R>(_ bytes: [UInt8], _ body: (ByteLine) throws -> R) rethrows -> R {
    if bytes.isEmpty {
        let empty: [UInt8] = [0]
        return try empty.withUnsafeBufferPointer { try body(ByteLine(base: $0.baseAddress!, count: 0)) }
    }
    return try bytes.withUnsafeBufferPointer { try body(ByteLine(base: $0.baseAddress!, count: $0.count)) }
}

public func withByteLine<R>(_ text: String, _ body: (ByteLine) throws -> R) rethrows -> R {
    var copy = text
    return try copy.withUTF8 { buffer in
        if let base = buffer.baseAddress {
            return try body(ByteLine(base: base, count: buffer.count))
        }
        let empty: [UInt8] = [0]
        return try empty.withUnsafeBufferPointer { try body(ByteLine(base: $0.baseAddress!, count: 0)) }
    }
}
