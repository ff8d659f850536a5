#!/usr/bin/env bash
# Times `tailwatch-report bandwidth --user U --by day --since 30d` on a database holding 30 days of
# 5-minute rows for 1,000 accounts (8.64 million rows), as issue 3 asks. Writes under bench-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench-out/report-query
mkdir -p "$out"
swift build -c release --product tailwatchd >/dev/null
swift build -c release --product tailwatch-report >/dev/null
bin=$(swift build -c release --show-bin-path)
cat > "$out/q.toml" <<CONF
database = "q.sqlite3"
log_file = "q.log"
pid_file = "q.pid"
userdomains = "none"
[cpbandwd]
domlogs = ""
CONF
if [ ! -f "$out/q.sqlite3" ]; then
    "$bin/tailwatchd" --once --config "$out/q.toml" >/dev/null      # creates the schema
    now=$(date +%s)
    start=$(( now - now % 300 - 8640 * 300 + 300 ))
    sqlite3 "$out/q.sqlite3" "WITH RECURSIVE u(n) AS (SELECT 0 UNION ALL SELECT n+1 FROM u WHERE n < 999),
        b(k) AS (SELECT 0 UNION ALL SELECT k+1 FROM b WHERE k < 8639)
        INSERT INTO bandwidth_5min SELECT 'user' || n, 'site' || n || '.example', 'http', $start + k * 300, 1000 + k, 3 FROM u, b;
        PRAGMA wal_checkpoint(TRUNCATE);"
fi
echo "rows: $(sqlite3 "$out/q.sqlite3" 'SELECT COUNT(*) FROM bandwidth_5min')"
for i in 1 2 3 4 5; do
    /usr/bin/time -f "%e s" "$bin/tailwatch-report" --config "$out/q.toml" bandwidth --user user512 --by day --since 30d --format csv 2>&1 >/dev/null
done | sort | head -1 | sed 's/^/best of 5, whole command: /'
