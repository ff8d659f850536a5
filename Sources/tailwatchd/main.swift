import TailWatchDaemon
TailWatchDaemonMain.main()
