#!/usr/bin/env python3
"""A hosting server's domlogs folder for tools/bench domlogs: many files, lines appended at random.

  domlogs-load.py setup DIR FILES          FILES/2 domains, DOMAIN and DOMAIN-ssl_log each, 3 lines
                                           per file, a userdomains beside DIR; prints the bytes written
  domlogs-load.py load DIR FILES DB PID SECONDS RATE
      appends RATE lines/s spread at random over the files for SECONDS, each as its own open/write/
      close (as Apache's piped loggers do not, but the worst case for the watcher); meanwhile every
      100 ms a probe line of a known size goes to probe.example and the database (read-only) is
      polled until it shows it (append-to-commit latency). Prints JSON: bytes written, latencies,
      the daemon's CPU seconds over the load, its RSS and open descriptors at the end.
"""
import json
import os
import random
import sqlite3
import sys
import threading
import time

STAMP = time.strftime('%d/%b/%Y:%H:%M:%S +0000', time.gmtime())


def line(size, path='/'):
    return f'203.0.113.{size % 250} - - [{STAMP}] "GET {path} HTTP/1.1" 200 {size} "-" "bench"\n'


def names(files):
    domains = [f'd{i}.example' for i in range(files // 2)]
    return domains, [n for d in domains for n in (d, d + '-ssl_log')]


def cpu_seconds(pid):
    fields = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def setup(folder, files):
    os.makedirs(folder, exist_ok=True)
    domains, all_names = names(files)
    total = 0
    rnd = random.Random(1)
    for name in all_names + ['probe.example']:
        text = ''.join(line(rnd.randrange(100, 5000)) for _ in range(3))
        with open(os.path.join(folder, name), 'w') as f:
            f.write(text)
        total += sum(int(l.split()[9]) for l in text.splitlines())
    with open(folder + '.userdomains', 'w') as f:
        for i, d in enumerate(domains + ['probe.example']):
            f.write(f'{d}: user{i % 1000}\n')
    print(total)


def load(folder, files, db, pid, seconds, rate):
    _, all_names = names(files)
    paths = [os.path.join(folder, n) for n in all_names]
    probe = os.path.join(folder, 'probe.example')
    rnd = random.Random(2)
    written = 0
    stop = threading.Event()
    latencies = []

    def prober():
        conn = sqlite3.connect(f'file:{db}?mode=ro', uri=True, timeout=30)
        def stored():
            row = conn.execute("SELECT coalesce(sum(bytes), 0) FROM bandwidth_monthly WHERE domain = 'probe.example'").fetchone()
            return row[0]
        base = stored()
        size = 1000
        while not stop.is_set():
            size += 1
            with open(probe, 'a') as f:
                f.write(line(size, '/probe'))
            t0 = time.monotonic()
            base += size
            while stored() < base:
                time.sleep(0.001)
            latencies.append(time.monotonic() - t0)
            time.sleep(0.1)

    thread = threading.Thread(target=prober)
    cpu0 = cpu_seconds(pid)
    start = time.monotonic()
    thread.start()
    sent = 0
    while True:
        now = time.monotonic() - start
        if now >= seconds:
            break
        due = int(now * rate)
        while sent < due:
            size = rnd.randrange(100, 50000)
            with open(rnd.choice(paths), 'a') as f:
                f.write(line(size))
            written += size
            sent += 1
        time.sleep(0.002)
    stop.set()
    thread.join()
    elapsed = time.monotonic() - start
    cpu = cpu_seconds(pid) - cpu0
    status = open(f'/proc/{pid}/status').read()
    rss = int(next(l.split()[1] for l in status.splitlines() if l.startswith('VmRSS'))) // 1024
    fds = len(os.listdir(f'/proc/{pid}/fd'))
    latencies.sort()
    print(json.dumps({
        'lines': sent, 'bytes': written, 'probe_bytes': sum(range(1001, 1001 + len(latencies))),
        'seconds': elapsed, 'cpu': cpu, 'rss_mib': rss, 'fds': fds, 'probes': len(latencies),
        'p50_ms': 1000 * latencies[len(latencies) // 2], 'p99_ms': 1000 * latencies[int(len(latencies) * 0.99)],
        'max_ms': 1000 * latencies[-1],
    }))


if __name__ == '__main__':
    if sys.argv[1] == 'setup':
        setup(sys.argv[2], int(sys.argv[3]))
    else:
        load(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7]))
