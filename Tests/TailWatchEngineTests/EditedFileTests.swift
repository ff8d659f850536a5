import Foundation
import Testing
import TailWatchEngine
import TestSupport

/// The one way a file operators edit is found changed: written, replaced, deleted, back again.
@Suite struct EditedFileTests {
    @Test func writesReplacementsAndDeletionsAreEachSeenOnce() throws {
        let folder = TemporaryFolder("edited")
        let path = try folder.write("userdomains", "a.example: alice\n")
        var file = EditedFile(path: path, readNow: true)
        #expect(file.look() == .unchanged)
        try LogWriter.append(path, "b.example: bob\n")
        #expect(file.look() == .changed)
        #expect(file.look() == .unchanged)
        // An atomic replacement (a new inode), even of the same size.
        let spare = try folder.write("userdomains.new", "c.example: carol\nb.example: bob\n")
        #expect(rename(spare, path) == 0)
        #expect(file.look() == .changed)
        try FileManager.default.removeItem(atPath: path)
        #expect(file.look() == .missing)
        #expect(file.look() == .unchanged, "a missing file is reported once")
        try folder.write("userdomains", "a.example: alice\n")
        #expect(file.look() == .changed)
    }

    @Test func nothingReadYetMeansAnExistingFileIsAChangeAndAnAbsentOneIsNot() throws {
        let folder = TemporaryFolder("edited")
        var absent = EditedFile(path: folder.file("alwaysrelay"), readNow: false)
        #expect(absent.look() == .unchanged)
        try folder.write("alwaysrelay", "203.0.113.7\n")
        #expect(absent.look() == .changed)
        var present = EditedFile(path: folder.file("alwaysrelay"), readNow: false)
        #expect(present.look() == .changed)
    }
}
