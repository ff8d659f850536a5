import Foundation

/// The shared real-log corpus (`../shared/corpus/` beside the project), when it is there.
public enum Corpus {
    /// The corpus folder, found from this source file's location; nil when absent.
    public static var folder: String? {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() } // Tests/TestSupport/Corpus.swift → project
        let candidate = url.deletingLastPathComponent().appendingPathComponent("shared/corpus").path
        return FileManager.default.fileExists(atPath: candidate) ? candidate : nil
    }

    public static func file(_ relative: String) -> String? {
        guard let folder else { return nil }
        let p = (folder as NSString).appendingPathComponent(relative)
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }

    /// The project folder (for Examples/ and fixtures).
    public static var projectFolder: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }
}
