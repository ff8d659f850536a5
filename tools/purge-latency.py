#!/usr/bin/env python3
"""While the daemon purges a large backlog of old rows, appends a mainlog line every 100 ms and
measures how long each takes to be committed (used by tools/bench purge).

Usage: purge-latency.py MAINLOG DATABASE TIMEOUT_SECONDS OLD_ROWS
"""
import os
import sqlite3
import sys
import time

log, database, timeout, old_before = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
db = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
latencies = []
wal_max = 0
started_all = time.monotonic()
i = 0
while time.monotonic() - started_all < timeout:
    mid = f"P{i:05d}-{i:06d}-Zz"  # a valid exim id (6-6-2) up to 99,999 appends
    i += 1
    line = (time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()) +
            f" {mid} <= lat@site0.example H=(c) [203.0.113.1] P=esmtpa A=dovecot_login:user0@site0.example S=100 for x@example.org\n")
    t0 = time.monotonic()
    with open(log, "a") as f:
        f.write(line)
    while db.execute("SELECT 1 FROM sends WHERE msgid = ?", (mid,)).fetchone() is None:
        if time.monotonic() - t0 > 30:
            break
        time.sleep(0.001)
    latencies.append(time.monotonic() - t0)
    try:
        wal_max = max(wal_max, os.path.getsize(database + "-wal"))
    except OSError:
        pass
    if i % 10 == 0 and db.execute("SELECT 1 FROM mail_deliveries WHERE msgid = 'old' LIMIT 1").fetchone() is None:
        break
    time.sleep(0.1)
purge_seconds = time.monotonic() - started_all
left = db.execute("SELECT count(*) FROM mail_deliveries WHERE msgid = 'old'").fetchone()[0]
latencies.sort()
p50 = latencies[len(latencies) // 2] * 1000
p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000
print(f"purge             : {old_before - left:,} of {old_before:,} old rows in {purge_seconds:.0f} s ({(old_before - left) / purge_seconds / 1e3:.0f} k rows/s)")
print(f"append-to-commit  : p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {latencies[-1] * 1000:.0f} ms over {len(latencies)} appends during the purge")
print(f"WAL               : at most {wal_max / 1048576:.0f} MiB")
sys.exit(0 if left == 0 and p99 < 1000 else 1)
