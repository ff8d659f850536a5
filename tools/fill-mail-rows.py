#!/usr/bin/env python3
"""Fills a TailWatch database with N generated mail delivery rows, for `tools/bench trace` and
`tools/bench upgrade` (a real daemon writing that many rows would need a 5 GB mainlog).

Usage: fill-mail-rows.py DB N DAYS narrow|wide [END]

narrow: the current tables (mail_names for recurring names, addresses as text, mail_arrivals,
        mail_deliveries); the daemon files the rows in search blocks when it next opens the database.
wide:   the tables before issue 20 (sends, smtp, failures, defers), to time migration 0003.

One arrival per two deliveries, spread evenly over the DAYS days before END (unix seconds; now
when not given), and their hourly sums; 1,000 accounts, 20,000
outside senders and 200,000 recipients in 2,000 domains, drawn with a skew (a few get most mail).
Prints one JSON line with a sample of names to search for.
"""
import bisect
import importlib.util
import itertools
import json
import os
import random
import sqlite3
import sys
import time

# Message ids in base 62, as the mainlog generator writes them.
_spec = importlib.util.spec_from_file_location("gen_mainlog", os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen-mainlog.py"))
_gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_gen)
b62 = _gen.b62


def skewed(rnd, weights):
    return bisect.bisect_left(weights, rnd.random() * weights[-1])


def main():
    path, n, days, shape = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    rnd = random.Random(7)
    users, senders, recipients, domains = 1000, 20000, 200000, 2000
    w_users = list(itertools.accumulate(1.0 / (k + 1) for k in range(users)))
    w_rcpt = list(itertools.accumulate(1.0 / (k + 1) ** 0.8 for k in range(recipients)))
    w_send = list(itertools.accumulate(1.0 / (k + 1) for k in range(senders)))
    now = int(sys.argv[5]) if len(sys.argv) > 5 else int(time.time())
    start = now - days * 86400
    step = days * 86400 / n
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    user_name = lambda u: f"user{u}"
    user_domain = lambda u: f"site{u}.example"
    rcpt_name = lambda r: f"rcpt{r}@dom{r % domains}.example"
    remote_name = lambda s: f"sender{s}@remote{s % 500}.example"
    sample = {}
    hourly = {}

    def tally(user, domain, t, size=None, kind=None):
        """The hourly rollup (mail_hourly) the daemon keeps of these rows: a database with DAYS
        days of mail has DAYS days of it too."""
        h = hourly.setdefault((user, domain, t - t % 3600), [0, 0, 0, 0, 0, 0])
        if size is not None:
            h[0] += 1
            h[1] += size
        elif kind == 1:
            h[2] += 1
            h[5] += 1
        else:
            h[3 if kind == 4 else 4] += 1

    def events():
        """Per delivery, in time order: its id key, time, message id, the message's arrival (new on
        every second delivery: user, domain, sender, the sender's domain, size) and recipient, fate."""
        seq = 0
        for i in range(n):
            t = int(start + i * step)
            if i % 2 == 0:
                msg = b62(t, 6) + "-" + b62(i // 2 % 62 ** 6, 6) + "-" + b62(i % 3844, 2)
                if rnd.random() < 0.8:
                    u = skewed(rnd, w_users)
                    arrival = (user_name(u), user_domain(u), f"{user_name(u)}@{user_domain(u)}", user_domain(u))
                else:
                    s = skewed(rnd, w_send)
                    arrival = ("-remote-", f"remote{s % 500}.example", remote_name(s), f"remote{s % 500}.example")
                seq += 1
                yield "arrival", (t << 20) | (seq & 0xFFFFF), t, msg, arrival + (rnd.randrange(600, 60000),)
            r = skewed(rnd, w_rcpt)
            fate = rnd.random()
            kind = 1 if fate < 0.85 else 5 if fate < 0.95 else 4
            seq += 1
            yield "delivery", (t << 20) | (seq & 0xFFFFF), t, msg, (r, kind)
            if i == n // 2:
                sample["msgid"] = msg

    if shape == "narrow":
        names = {}

        def nid(name):
            if name not in names:
                names[name] = len(names) + 1
            return names[name]
        arrivals, deliveries = [], []

        def write():
            db.executemany("INSERT INTO mail_arrivals (id, msgid, user, domain, sender, size, recipients) VALUES (?,?,?,?,?,?,?)", arrivals)
            db.executemany("""INSERT INTO mail_deliveries (id, msgid, kind, user, domain, sender, sender_domain, recipient,
                              recipient_domain, router, transport, host, ip, message) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)""", deliveries)
            arrivals.clear()
            deliveries.clear()
        for what, key, t, msg, data in events():
            if what == "arrival":
                user, domain, sender, sdomain, size = data
                tally(user, domain, t, size=size)
                current = (nid(user), nid(domain), sender, nid(sdomain))
                arrivals.append((key, msg, current[0], current[1], sender, size, 2))
                continue
            r, kind = data
            tally(user, domain, t, kind=kind)
            deliveries.append((key, msg, kind) + current + (rcpt_name(r), nid(f"dom{r % domains}.example"), nid("dnslookup"),
                              nid("remote_smtp"), nid("mx.example.org"), nid("198.51.100.7"), None if kind == 1 else "451 4.7.1 Try again later"))
            if len(deliveries) >= 200000:
                write()
        write()
        db.executemany("INSERT INTO mail_names (id, name) VALUES (?, ?)", ((v, k) for k, v in names.items()))
        db.execute("DELETE FROM mail_search_blocks")
    else:
        sends, rows = [], {"smtp": [], "failures": [], "defers": []}

        def write():
            db.executemany("INSERT INTO sends (id, time, msgid, user, domain, sender, size, host, ip, protocol, auth, subject, recipients) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", sends)
            db.executemany("INSERT INTO smtp (id, time, msgid, user, domain, kind, recipient, router, transport, host, ip) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows["smtp"])
            for table in ("failures", "defers"):
                db.executemany(f"INSERT INTO {table} (id, time, msgid, user, domain, recipient, router, transport, host, ip, error) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows[table])
            sends.clear()
            for table in rows:
                rows[table].clear()
        for what, key, t, msg, data in events():
            if what == "arrival":
                user, domain, sender, _, size = data
                tally(user, domain, t, size=size)
                sends.append((key, t, msg, user, domain, sender, size, "mx.client.example", "203.0.113.5", "esmtpa", None, "Invoice",
                              "a@b.example c@d.example"))
                continue
            r, kind = data
            tally(user, domain, t, kind=kind)
            head = (key, t, msg, user, domain)
            rest = (rcpt_name(r), "dnslookup", "remote_smtp", "mx.example.org", "198.51.100.7")
            if kind == 1:
                rows["smtp"].append(head + ("=>",) + rest)
            elif kind == 5:
                rows["defers"].append(head + rest + ("451 4.7.1 Try again later",))
            else:
                rows["failures"].append(head + rest + ("550 5.1.1 User unknown",))
            if len(sends) >= 100000:
                write()
        write()
    db.executemany("INSERT INTO mail_hourly (user, domain, hour, sent, sent_bytes, delivered, failed, deferred, remote_delivered) VALUES (?,?,?,?,?,?,?,?,?)",
                   (key + tuple(sums) for key, sums in sorted(hourly.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1]))))
    db.commit()
    db.close()
    sample.update({"busy_user": "user0", "rare_user": f"user{users - 1}", "busy_recipient": rcpt_name(0), "rare_recipient": rcpt_name(recipients - 7),
                   "busy_domain": "@dom0.example", "sender": f"{user_name(3)}@{user_domain(3)}", "remote_domain": "@remote17.example"})
    print(json.dumps(sample))


if __name__ == "__main__":
    main()
