#!/usr/bin/env python3
"""Writes a cPanel-style maillog (dovecot lines in syslog format) for benchmarks: mostly
deliveries, session ends and failed logins, about 8% successful logins. The lines span the last 20
minutes, so every login is inside a 30-minute relay window when the benchmark runs. A large server's
model: 8,000 mailboxes, each logging in from one or two addresses of its own (home, phone), some
from a shared office address; about 10,000 client addresses in all, one in ten IPv6.
Prints the expected whitelist (sorted hosts) as JSON.

Usage: gen-maillog.py OUT LINES [MAILBOXES]
"""
import json
import random
import sys
import time

out, lines = sys.argv[1], int(sys.argv[2])
mailboxes = int(sys.argv[3]) if len(sys.argv) > 3 else 8000
rnd = random.Random(11)
now = int(time.time())
start = now - 20 * 60
months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']


def stamp(t):
    g = time.gmtime(t)
    return f'{months[g.tm_mon - 1]} {g.tm_mday:2d} {g.tm_hour:02d}:{g.tm_min:02d}:{g.tm_sec:02d}'


def client(k):
    if k % 10 == 9:
        return f'2001:db8:{k >> 16:x}:{k & 0xffff:x}::1'
    return f'10.{(k >> 16) & 255}.{(k >> 8) & 255}.{k & 255 or 1}'


users = [f'user{u}@site{u % 400}.example' for u in range(mailboxes)]
# Each mailbox's own addresses: one or two of its own, or its site's shared office address.
homes = []
for u in range(mailboxes):
    own = [client(u * 2 + 1000)] + ([client(u * 2 + 1001)] if u % 4 == 0 else [])
    homes.append(own + [client(u % 400)] if u % 5 == 0 else own)
expected = set()
with open(out, 'w', buffering=1 << 20) as f:
    for i in range(lines):
        t = stamp(start + (i * 1200) // lines)
        r = rnd.random()
        u = rnd.randrange(mailboxes)
        user = users[u]
        ip = rnd.choice(homes[u])
        pid = rnd.randrange(1000, 99999)
        if r < 0.06:
            f.write(f'{t} mail dovecot: imap-login: Login: user=<{user}>, method=PLAIN, rip={ip}, lip=192.0.2.1, mpid={pid}, TLS, session=<Xk{pid}ab>\n')
            expected.add(ip)
        elif r < 0.08:
            f.write(f'{t} mail dovecot[{pid}]: pop3-login: Login: user=<{user}>, method=PLAIN, rip={ip}, lip=192.0.2.1, mpid={pid}, session=<Yq{pid}cd>\n')
            expected.add(ip)
        elif r < 0.13:
            f.write(f'{t} mail dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<{user}>, method=PLAIN, rip=203.0.{pid % 256}.{pid % 199 + 1}, lip=192.0.2.1, TLS, session=<Zz{pid}>\n')
        elif r < 0.15:
            f.write(f'{t} mail dovecot: auth-worker({pid}): sql({user},203.0.113.{pid % 250 + 1},<Ww{pid}>): Password mismatch\n')
        elif r < 0.40:
            f.write(f'{t} mail dovecot: imap({user})<{pid}><Xk{pid}ab>: Logged out in={rnd.randrange(100, 9999)} out={rnd.randrange(100, 999999)} deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0\n')
        elif r < 0.50:
            f.write(f'{t} mail dovecot: pop3({user})<{pid}><Yq{pid}cd>: Disconnected: Logged out top=0/0, retr=1/{rnd.randrange(1000, 99999)}, del=1/1, size={rnd.randrange(1000, 99999)}\n')
        elif r < 0.85:
            f.write(f'{t} mail dovecot: lda({user})<{pid}><Ab{pid}>: sieve: msgid=<{pid}.{i}@mailer.example>: stored mail into mailbox \'INBOX\'\n')
        else:
            f.write(f'{t} mail spamd[{pid}]: spamd: result: . 0 - BAYES_00,HTML_MESSAGE scantime=0.4,size={rnd.randrange(1000, 99999)},user={user},uid=1001,required_score=5.0,rhost=localhost,raddr=127.0.0.1,rport=4{pid % 1000},mid=<{pid}.{i}@mailer.example>,bayes=0.000,autolearn=ham\n')

def key(ip):
    return (1, ip) if ':' in ip else (0, tuple(int(p) for p in ip.split('.')))

print(json.dumps({'hosts': sorted(expected, key=key)}))
