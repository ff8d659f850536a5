import TailWatchDaemon
await TailWatchDaemonMain.main()
