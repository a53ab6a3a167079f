#!/usr/bin/env python3
"""Paced latency probe: what one user clicking around sees while the server is busy.

Requests URL over one keep-alive connection every INTERVAL seconds (a new request starts only
when the previous one answered, so a slow server is not flooded) until SIGTERM/SIGINT, then
prints the count, p50/p90/p99/max in milliseconds and any non-200 answers.
Usage: latency-probe.py URL COOKIE [INTERVAL, default 0.1]
"""
import http.client
import signal
import sys
import time
import urllib.parse

url, cookie = sys.argv[1], sys.argv[2]
interval = float(sys.argv[3]) if len(sys.argv) > 3 else 0.1
parts = urllib.parse.urlsplit(url)
path = parts.path + ("?" + parts.query if parts.query else "")
stop = False


def on_signal(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGINT, on_signal)
conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
times, bad = [], 0
while not stop:
    began = time.monotonic()
    try:
        conn.request("GET", path, headers={"Cookie": cookie})
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            bad += 1
    except (OSError, http.client.HTTPException):
        bad += 1
        conn.close()
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    took = time.monotonic() - began
    times.append(took * 1000)
    time.sleep(max(0.0, interval - took))

times.sort()
if not times:
    print("no requests")
    sys.exit(0)


def pct(q):
    return times[min(len(times) - 1, int(q * len(times)))]


print(
    f"{len(times)} requests, one every {interval * 1000:.0f} ms: p50 {pct(0.5):.1f} ms, "
    f"p90 {pct(0.9):.1f} ms, p99 {pct(0.99):.1f} ms, max {times[-1]:.1f} ms"
    + (f", {bad} not HTTP 200" if bad else "")
)
