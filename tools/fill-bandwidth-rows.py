#!/usr/bin/env python3
"""Fills a TailWatch database with bandwidth rows as cpbandwd would have written them (used by
tools/bench web): ACCOUNTS accounts (user0…, site0.example…), each with a row every 5 minutes for
the last DAYS days (mostly http, every tenth bucket imap), and the hourly, daily and monthly
rollups summed from them. Also writes USERDOMAINS and a LIMITS file (a limit per account, so that
usage bars span green to red).

Usage: fill-bandwidth-rows.py DATABASE ACCOUNTS DAYS USERDOMAINS LIMITS
"""
import sqlite3
import sys
import time

database, accounts, days, userdomains, limits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
end = int(time.time()) // 300 * 300
start = end - days * 86400

db = sqlite3.connect(database)
db.execute("PRAGMA journal_mode = WAL")
db.execute("PRAGMA synchronous = OFF")
with db:
    for table in ("bandwidth_5min", "bandwidth_hourly", "bandwidth_daily", "bandwidth_monthly"):
        db.execute(f"DELETE FROM {table}")
    # Period first, then account: the 5-minute table's key order, so the insert appends.
    db.execute(f"""
        WITH RECURSIVE a(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM a WHERE i < {accounts - 1}),
                       t(p) AS (SELECT {start} UNION ALL SELECT p + 300 FROM t WHERE p < {end - 300})
        INSERT INTO bandwidth_5min (user, domain, protocol, period, bytes, hits)
        SELECT 'user' || i, 'site' || i || '.example', CASE WHEN (i + p / 300) % 10 = 0 THEN 'imap' ELSE 'http' END, p,
               1000 + (i * 7919 + p / 300 * 104729) % 200000, 1 + (i + p / 300) % 40
        FROM t, a""")
    for table, step in (("bandwidth_hourly", "period - period % 3600"), ("bandwidth_daily", "period - period % 86400"),
                        ("bandwidth_monthly", "CAST(strftime('%s', period, 'unixepoch', 'start of month') AS INTEGER)")):
        db.execute(f"""
            INSERT INTO {table} (user, domain, protocol, period, bytes, hits)
            SELECT user, domain, protocol, {step} AS bucket, SUM(bytes), SUM(hits)
            FROM bandwidth_5min GROUP BY user, domain, protocol, bucket""")
rows = db.execute("SELECT count(*) FROM bandwidth_5min").fetchone()[0]
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
db.close()
with open(userdomains, "w") as f:
    f.writelines(f"site{i}.example: user{i}\n" for i in range(accounts))
with open(limits, "w") as f:
    # About 58 MiB a day per account: limits from half to twice a month's use.
    f.writelines(f"user{i}: {(1 + i % 4) * 1024}M\n" for i in range(accounts))
print(f"{rows} five-minute rows for {accounts} accounts over {days} days, and their rollups")
