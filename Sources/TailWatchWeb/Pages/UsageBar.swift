import CpBandwd
import TailWatchComposition

/// The WHM usage bar: green below 70 % of the limit, yellow from 70 %, orange from 85 %, red from 100 %.
enum UsageBar {
    static func html(bytes: Int64, limit: Int64?) -> String {
        guard let limit, limit > 0 else { return "<td class=\"num\" data-v=\"-1\">unlimited</td>" }
        let percent = Double(bytes) / Double(limit) * 100
        let level = percent >= 100 ? " bad" : percent >= 85 ? " high" : percent >= 70 ? " warn" : ""
        let width = min(100, Int(percent / 5) * 5)
        return "<td class=\"num\" data-v=\"\(percent)\"><span class=\"bar\(level)\"><span class=\"w\(width)\"></span></span>\(ReportTable.percentText(percent)) %</td>"
    }

    /// The monthly limits of the `[cpbandwd] limits` file, by account (none when not configured).
    static func limits(_ loaded: LoadedConfiguration) -> [String: Int64] {
        guard let settings = try? CpBandwdSettings(loaded.file.section("cpbandwd")), let path = settings.limits else { return [:] }
        return BandwidthLimits.load(path: path).bytes
    }
}
