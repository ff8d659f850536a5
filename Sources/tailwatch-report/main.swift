import TailWatchReport
TailWatchReportMain.main()
