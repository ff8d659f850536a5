// TailWatch runs on Linux, where hosting servers run: it follows logs with inotify, reads process
// tables and its own descriptors from /proc, and uses Glibc's stat fields and signals. A build
// for anything else stops here rather than compiling branches nobody runs or tests.
#if !os(Linux)
#error("TailWatch supports Linux only (inotify, /proc, Glibc)")
#endif
