#!/usr/bin/env python3
"""Browsers on a running job: what people watching a job and paging the inventory see.

N browsers (default 16), each on one keep-alive connection and started a little apart, either
- watching a job (WHAT = job:ID): they open /jobs/ID, then do what htmx does on that page while
  the job runs: request the URL of the element that polls (hx-get of #job-poll, or of #job-live
  on builds before it existed) once a second, with HX-Request, following the URL each answer
  carries; or
- paging the inventory (WHAT = list): /devices?per_page=50 once a second.
SIGUSR1 forgets what was measured so far (the bench sends it when the job starts, so browsers
opened before it count only what they saw during it).
A browser waits for an answer before its next request, so a slow server is not flooded.
Runs until SIGTERM/SIGINT, then prints for each page the request count, p50/p90/p99/max in
milliseconds and any answer that was not HTTP 200.
Usage: browsers.py BASE_URL COOKIE WHAT [BROWSERS, default 16] [INTERVAL s, default 1]
BROWSERS_TRACE=file also writes every request (seconds since start, page, milliseconds, path).
"""
import os
import html
import http.client
import re
import signal
import sys
import threading
import time
import urllib.parse

base, cookie, what = sys.argv[1], sys.argv[2], sys.argv[3]
job = what.split(":", 1)[1] if what.startswith("job:") else None
browsers = int(sys.argv[4]) if len(sys.argv) > 4 else 16
interval = float(sys.argv[5]) if len(sys.argv) > 5 else 1.0
parts = urllib.parse.urlsplit(base)
stop = threading.Event()
lock = threading.Lock()
times = {"job page": [], "device list": []}
bad = {"job page": 0, "device list": 0}
POLLER = re.compile(r'<[^>]*\bid="job-(?:poll|live)"[^>]*>')
HX_GET = re.compile(r'\bhx-get="([^"]*)"')


def on_signal(*_):
    stop.set()


def on_restart(*_):
    with lock:
        for kind in times:
            times[kind].clear()
            bad[kind] = 0
        trace.clear()


def poll_url(page):
    """The URL the page's poller asks next, or None when nothing polls (the job ended)."""
    for tag in POLLER.findall(page):
        found = HX_GET.search(tag)
        if found and "hx-trigger" in tag:
            return html.unescape(found.group(1))
    return None


def browser(kind):
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    path = "/devices?per_page=50" if kind == "device list" else f"/jobs/{job}"
    headers = {"Cookie": cookie}
    while not stop.is_set():
        began = time.monotonic()
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read().decode("utf-8", "replace")
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            ok, body = False, ""
            conn.close()
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        took = time.monotonic() - began
        with lock:
            times[kind].append(took * 1000)
            bad[kind] += 0 if ok else 1
            trace.append((began - started, kind, took * 1000, path))
        if kind == "job page":
            following = poll_url(body) if ok else None
            if following:
                path, headers = following, {"Cookie": cookie, "HX-Request": "true"}
            else:
                # Not polling (the job ended, or an error): reload the page, as a person would.
                path, headers = f"/jobs/{job}", {"Cookie": cookie}
        stop.wait(max(0.0, interval - took))


trace = []
started = time.monotonic()
signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGINT, on_signal)
signal.signal(signal.SIGUSR1, on_restart)
threads = []
for i in range(browsers):
    kind = "job page" if job else "device list"
    t = threading.Thread(target=browser, args=(kind,), daemon=True)
    t.start()
    threads.append(t)
    time.sleep(interval / browsers)
while not stop.is_set():
    stop.wait(0.5)
for t in threads:
    t.join(timeout=35)


def pct(values, q):
    return values[min(len(values) - 1, int(q * len(values)))]


for kind, values in times.items():
    values.sort()
    if not values:
        continue
    print(
        f"{kind}: {len(values)} requests: p50 {pct(values, 0.5):.1f} ms, p90 {pct(values, 0.9):.1f} ms, "
        f"p99 {pct(values, 0.99):.1f} ms, max {values[-1]:.1f} ms"
        + (f", {bad[kind]} not HTTP 200" if bad[kind] else "")
    )

if os.environ.get("BROWSERS_TRACE"):
    with open(os.environ["BROWSERS_TRACE"], "w") as out:
        for at, kind, ms, path in sorted(trace):
            out.write(f"{at:8.3f} {kind:12} {ms:8.1f} {path}\n")
