public enum TailWatchDaemonMain { public static func main() {} }
