#!/usr/bin/env python3
"""Writes an auth.log for the custom-driver benchmark.

    gen-authlog.py PATH LINES MODE

MODE "noise": no line has "Failed password for " (cron, accepted logins, sessions, preauth
closes): what the sshd example's pre-filter turns away. MODE "failed": every line is a failed ssh
password login from one of 5,000 addresses. Prints {"per_ip": {ip: count}} as JSON.
"""
import json, random, sys

path, lines, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = random.Random(7)
months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
addresses = [f"203.0.{i // 250}.{i % 250 + 1}" for i in range(4000)] + [f"2001:db8::{i:x}" for i in range(1, 1001)]
users = ["root", "admin", "oracle", "test", "ubuntu", "git", "postgres", "bob"]
per_ip = {}
with open(path, "w") as out:
    for n in range(lines):
        t = n * 86000 // max(lines, 1)
        stamp = f"Nov 28 {t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d} web1"
        pid = 20000 + n % 9000
        ip = addresses[rng.randrange(len(addresses))]
        if mode == "failed":
            user = users[rng.randrange(len(users))]
            invalid = "invalid user " if user not in ("root", "bob") else ""
            out.write(f"{stamp} sshd[{pid}]: Failed password for {invalid}{user} from {ip} port {1024 + n % 60000} ssh2\n")
            per_ip[ip] = per_ip.get(ip, 0) + 1
        else:
            k = n % 4
            if k == 0:
                out.write(f"{stamp} CRON[{pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)\n")
            elif k == 1:
                out.write(f"{stamp} sshd[{pid}]: Accepted publickey for bob from {ip} port {1024 + n % 60000} ssh2: ED25519 SHA256:3Zs1qQn6p0Xw\n")
            elif k == 2:
                out.write(f"{stamp} sshd[{pid}]: pam_unix(sshd:session): session opened for user bob(uid=1000) by (uid=0)\n")
            else:
                out.write(f"{stamp} sshd[{pid}]: Connection closed by authenticating user root {ip} port {1024 + n % 60000} [preauth]\n")
json.dump({"per_ip": per_ip}, sys.stdout)
