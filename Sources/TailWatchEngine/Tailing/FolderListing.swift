import Foundation
import Glibc

/// Which files of a folder source (`domlogs`, a custom driver's `folder/*.log`) are logs to follow.
enum FolderListing {
    /// The names in `folder` matching `pattern` (fnmatch), sorted, as paths. Compressed files are
    /// never followed, and a rotated copy of a matching log (`example.com.1`) is read through that
    /// log, never on its own, also while the log itself is briefly missing between rename and create.
    static func logs(in folder: String, matching pattern: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        return names.filter { name in
            fnmatch(pattern, name, 0) == 0 && !isCompressed(name)
                && !RotatedSiblings.rotationBases(of: name).contains { fnmatch(pattern, $0, 0) == 0 }
        }.sorted().map { (folder as NSString).appendingPathComponent($0) }
    }

    static func isCompressed(_ name: String) -> Bool {
        [".gz", ".bz2", ".xz", ".zst", ".zip", ".lz4"].contains { name.hasSuffix($0) }
    }
}
