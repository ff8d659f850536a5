#!/usr/bin/env python3
"""Writes a realistic cPanel-style exim mainlog for benchmarks and soak tests.

Usage: gen-mainlog.py OUT LINES [USERS] [RECIPIENTS]

RECIPIENTS: the size of the pool of outside addresses (recipients of outgoing mail, senders of
incoming mail) drawn from with a Zipf-like skew (a few contacts get most of the mail, as on a real
server); 0, the default, makes every one of them unique (the worst case for a name dictionary).

Old-format (16-character) message ids, unique per message; timestamps one per message ending now;
per message: an arrival (authenticated, local or remote), one or two deliveries, sometimes a
deferral or a failure, and Completed; queue runs, rejected recipients and TLS noise in between.
Also writes OUT.userdomains for the generated accounts and prints the expected totals as JSON.
"""
import bisect
import itertools
import json
import random
import sys
import time

ALPHA = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def b62(n, width):
    out = []
    for _ in range(width):
        out.append(ALPHA[n % 62])
        n //= 62
    return "".join(reversed(out))


def main():
    out, lines = sys.argv[1], int(sys.argv[2])
    users = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    pool = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    rnd = random.Random(42)
    weights = list(itertools.accumulate(1.0 / (k + 1) for k in range(pool)))

    def outside(i, prefix):
        """An outside address: unique per message, or drawn from the skewed pool."""
        if pool == 0:
            return f"{prefix}{i}"
        k = bisect.bisect_left(weights, rnd.random() * weights[-1])
        return f"{prefix}{k}"
    messages = lines // 3
    start = int(time.time()) - messages
    expected = {"sent": 0, "sent_bytes": 0, "delivered": 0, "failed": 0, "deferred": 0, "lines": 0}
    with open(out + ".userdomains", "w") as ud:
        for u in range(users):
            ud.write(f"site{u}.example: user{u}\n")
    written = 0
    with open(out, "w", buffering=1 << 20) as f:
        i = 0
        while written < lines:
            t = start + i
            ts = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))
            mid = b62(t, 6) + "-" + b62(i, 6) + "-" + b62(i % 3844, 2)
            u = rnd.randrange(users)
            size = rnd.randrange(600, 60000)
            kind = rnd.random()
            rcpt, remote = outside(i, "rcpt"), outside(i, "sender")
            if kind < 0.6:
                arrival = (f"{ts} {mid} <= user{u}@site{u}.example H=(client{u}) [203.0.{u % 256}.{i % 250 + 1}]:{40000 + i % 20000} "
                           f"I=[192.0.2.10]:587 P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no "
                           f"A=dovecot_login:user{u}@site{u}.example S={size} id={i}.{u}@client{u}.example "
                           f"T=\"Invoice {i} for order {u}\" from <user{u}@site{u}.example> for {rcpt}@example.org")
            elif kind < 0.8:
                arrival = (f"{ts} {mid} <= user{u}@site{u}.example U=user{u} P=local S={size} "
                           f"T=\"Cron <user{u}@server> php job.php\" from <user{u}@site{u}.example> for {rcpt}@example.org")
            else:
                arrival = (f"{ts} {mid} <= {remote}@remote.example H=mx{i % 97}.remote.example [198.51.100.{i % 250 + 1}]:25 "
                           f"P=esmtps X=TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=no S={size} id={i}@remote.example "
                           f"T=\"Newsletter {i}\" from <{remote}@remote.example> for user{u}@site{u}.example")
            f.write(arrival + "\n")
            written += 1
            expected["sent"] += 1
            expected["sent_bytes"] += size
            fate = rnd.random()
            if fate < 0.85:
                f.write(f"{ts} {mid} => {rcpt}@example.org R=dkim_lookuphost T=dkim_remote_smtp H=mx.example.org [198.51.100.7] "
                        f"X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes C=\"250 2.0.0 Ok: queued as {i}\"\n")
                written += 1
                expected["delivered"] += 1
                if fate < 0.15:
                    f.write(f"{ts} {mid} -> {outside(i, 'cc')}@example.org R=dkim_lookuphost T=dkim_remote_smtp H=mx.example.org [198.51.100.7]\n")
                    written += 1
                    expected["delivered"] += 1
            elif fate < 0.95:
                f.write(f"{ts} {mid} == {rcpt}@example.org R=dkim_lookuphost T=dkim_remote_smtp defer (-44) H=mx.example.org "
                        f"[198.51.100.7]: SMTP error from remote mail server after RCPT TO:<{rcpt}@example.org>: 451 4.7.1 Try again later\n")
                written += 1
                expected["deferred"] += 1
            else:
                f.write(f"{ts} {mid} ** {rcpt}@example.org R=dkim_lookuphost T=dkim_remote_smtp H=mx.example.org [198.51.100.7]: "
                        f"SMTP error from remote mail server after RCPT TO:<{rcpt}@example.org>: 550 5.1.1 User unknown\n")
                written += 1
                expected["failed"] += 1
            f.write(f"{ts} {mid} Completed\n")
            written += 1
            if i % 50 == 0:
                f.write(f"{ts} H=(probe{i}) [198.18.{i % 256}.{i % 200 + 1}] F=<spam{i}@spam.example> rejected RCPT <nobody@site{u}.example>: relay not permitted\n")
                f.write(f"{ts} Start queue run: pid={10000 + i % 50000}\n")
                f.write(f"{ts} End queue run: pid={10000 + i % 50000}\n")
                written += 3
            i += 1
    expected["lines"] = written
    print(json.dumps(expected))


if __name__ == "__main__":
    main()
