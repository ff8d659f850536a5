#!/usr/bin/env python3
"""Writes a vhost_combined access log (Apache `%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"`)
for benchmarks, with a userdomains file for its vhosts; prints the expected byte totals as JSON.

Usage: gen-vhostlog.py OUT LINES [VHOSTS]
"""
import json
import random
import sys
import time

out, lines = sys.argv[1], int(sys.argv[2])
vhosts = int(sys.argv[3]) if len(sys.argv) > 3 else 250
rnd = random.Random(7)
start = int(time.time()) - lines // 20
agents = ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
          'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1',
          'curl/8.4.0', 'Googlebot/2.1 (+http://www.google.com/bot.html)', 'Mozilla \\" 200 999999999 \\"']
paths = ['/', '/index.php', '/wp-login.php', '/images/logo.png', '/css/site.css', '/js/app.js', '/shop/cart?id=42&x=\\"1\\"']
total = 0
per_vhost = {}
with open(out + '.userdomains', 'w') as ud:
    for v in range(vhosts):
        ud.write(f'site{v}.example: user{v % (vhosts // 2 + 1)}\n')
with open(out, 'w', buffering=1 << 20) as f:
    for i in range(lines):
        v = rnd.randrange(vhosts)
        t = time.strftime('%d/%b/%Y:%H:%M:%S +0000', time.gmtime(start + i // 20))
        status = rnd.choice([200, 200, 200, 200, 304, 404, 301, 206, 500])
        size = 0 if status == 304 else rnd.randrange(100, 200000)
        field = '-' if size == 0 else str(size)
        host = f'203.0.{i % 256}.{v % 250 + 1}' if i % 7 else f'2001:db8::{i % 65536:x}'
        f.write(f'site{v}.example:443 {host} - - [{t}] "GET {rnd.choice(paths)} HTTP/1.1" {status} {field} '
                f'"https://site{v}.example/" "{rnd.choice(agents)}"\n')
        total += size
        per_vhost[v] = per_vhost.get(v, 0) + size
print(json.dumps({"bytes": total, "lines": lines, "vhosts": len(per_vhost)}))
