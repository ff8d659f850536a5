public enum TailWatchReportMain { public static func main() {} }
