import Foundation

/// Byte counts as people read them: `512 B`, `1.5 KiB`, `9.8 GiB` (binary units, one decimal).
/// Used by the report tables, progress lines and limit messages alike.
public enum HumanSize {
    public static func format(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(bytes)
        var unit = 0
        while abs(value) >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}
