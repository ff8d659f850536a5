#!/usr/bin/env python3
"""Measures the daemon live: append-to-commit latency and idle CPU (used by tools/bench latency).

Usage: latency.py MAINLOG DATABASE PID IDLE_SECONDS
"""
import os
import sqlite3
import statistics
import sys
import time

log, database, pid, idle_seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])


def cpu_seconds():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
latencies = []
for i in range(200):
    mid = f"LAT{i:03d}-{i:06d}-Zz"
    line = (time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()) +
            f" {mid} <= lat@site0.example H=(c) [203.0.113.1] P=esmtpa A=dovecot_login:user0@site0.example S=100 for x@example.org\n")
    started = time.monotonic()
    with open(log, "a") as f:
        f.write(line)
    while True:
        if db.execute("SELECT 1 FROM sends WHERE msgid = ?", (mid,)).fetchone():
            break
        if time.monotonic() - started > 5:
            break
        time.sleep(0.001)
    latencies.append(time.monotonic() - started)
    time.sleep(0.02)
latencies.sort()
p50 = latencies[len(latencies) // 2] * 1000
p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
print(f"append-to-commit  : p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {latencies[-1] * 1000:.0f} ms over {len(latencies)} appends")
time.sleep(2)
before = cpu_seconds()
time.sleep(idle_seconds)
used = cpu_seconds() - before
print(f"idle CPU          : {used:.2f} s of CPU in {idle_seconds:.0f} s ({100 * used / idle_seconds:.2f}%)")
