import TailWatchEngine

/// A stacked bar chart drawn by the server as inline SVG: a page with charts on a server without
/// internet, and no script needed to see them.
struct SVGChart {
    struct Bucket {
        var label: String
        var values: [String: Int64]
    }

    var title: String
    var series: [String]
    var buckets: [Bucket]
    /// How a value reads on the axis and in tooltips.
    var format: (Int64) -> String = { HumanSize.format($0) }

    static let palette = ["#2f6fb0", "#e0912f", "#3a9d5d", "#b0413e", "#7d5ba6", "#8c6d31", "#4aa3a3", "#c25b9e"]

    func render() -> String {
        let width = 720.0, height = 220.0, left = 64.0, bottom = 28.0, top = 10.0
        let plotWidth = width - left - 8, plotHeight = height - bottom - top
        let totals = buckets.map { b in series.reduce(Int64(0)) { $0 &+ (b.values[$1] ?? 0) } }
        let maxValue = max(totals.max() ?? 0, 1)
        let slot = plotWidth / Double(max(buckets.count, 1))
        let barWidth = max(slot * 0.8, 1)
        var svg = "<figure class=\"chart\"><figcaption>\(HTML.escape(title))</figcaption>"
        svg += "<svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(HTML.escape(title))\" xmlns=\"http://www.w3.org/2000/svg\">"
        // Grid: 0, half and the maximum.
        for fraction in [0.0, 0.5, 1.0] {
            let y = top + plotHeight * (1 - fraction)
            svg += "<line x1=\"\(Int(left))\" x2=\"\(Int(width - 8))\" y1=\"\(y)\" y2=\"\(y)\" class=\"grid\"/>"
            svg += "<text x=\"\(Int(left - 4))\" y=\"\(y + 4)\" class=\"axis\" text-anchor=\"end\">\(HTML.escape(format(Int64(Double(maxValue) * fraction))))</text>"
        }
        let labelEvery = max(1, buckets.count / 8)
        for (i, bucket) in buckets.enumerated() {
            let x = left + slot * Double(i) + (slot - barWidth) / 2
            var y = top + plotHeight
            for (s, name) in series.enumerated() {
                let value = bucket.values[name] ?? 0
                guard value > 0 else { continue }
                let h = plotHeight * Double(value) / Double(maxValue)
                y -= h
                svg += "<rect x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(fmt(barWidth))\" height=\"\(fmt(max(h, 0.5)))\" fill=\"\(Self.palette[s % Self.palette.count])\">"
                svg += "<title>\(HTML.escape("\(bucket.label) \(name): \(format(value))"))</title></rect>"
            }
            if i % labelEvery == 0 {
                svg += "<text x=\"\(fmt(x + barWidth / 2))\" y=\"\(Int(height - 10))\" class=\"axis\" text-anchor=\"middle\">\(HTML.escape(bucket.label))</text>"
            }
        }
        svg += "</svg><ul class=\"legend\">"
        for (s, name) in series.enumerated() {
            svg += "<li><span class=\"s\(s % Self.palette.count)\"></span>\(HTML.escape(name))</li>"
        }
        return svg + "</ul></figure>"
    }

    private func fmt(_ v: Double) -> String { String(format: "%.1f", v) }
}
