#!/usr/bin/env bash
# Git benchmark (issue "Git repositories"), on the release build:
#   - in process (`netraven dev bench-git`): 1,000 devices with a latest configuration (~300
#     lines) and a mirror repository on a local bare remote; the first mirror run (1,000 files in
#     one commit); then 100 new versions and the mirror run a backup job's end hands to the queue:
#     the time it adds after the job's last device, and how much the remote grew; then a
#     repository whose one file changed in each of 10,000 commits, and the history service's
#     first, middle and last page of 50, and of a file changed in only 10 of the commits with and
#     without the commit graph (alternating);
#   - over HTTP (curl, one request at a time, signed in as admin): the history page of that file,
#     first and middle page, and the file page.
# SQLite only: the mirror's time is git's and the file system's, and the history reads the local
# copy; the database holds a few rows for either.
# Usage: bash scripts/bench-git.sh [requests per HTTP measurement, default 50]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-50}"
PORT="${BENCH_PORT:-18094}"
PASSWORD="Bench-passw0rd-1"
BASE="http://127.0.0.1:$PORT"
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"

cargo build --release -q --features bench
BIN="$TARGET/release/netraven"

source scripts/bench-lib.sh

dir="$(mktemp -d)"; JAR="$dir/cookies"
export NETRAVEN_DATA_DIR="$dir" NETRAVEN_DATABASE_URL="sqlite://$dir/bench.db?mode=rwc" \
       NETRAVEN_BIND="127.0.0.1:$PORT" NETRAVEN_ADMIN_PASSWORD="$PASSWORD" NETRAVEN_LOG=warn
"$BIN" migrate >/dev/null
"$BIN" dev bench-git | tee "$dir/bench.out"
first="$(grep -o '^history page: .*' "$dir/bench.out" | cut -d' ' -f3)"
middle="$(grep -o '^middle page: .*' "$dir/bench.out" | cut -d' ' -f3)"
file="${first/history/file}"

"$BIN" serve --no-workers >"$dir/server.log" 2>&1 & pid=$!
for _ in $(seq 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.2; done
sign_in_admin
curl -s -b "$JAR" -o /dev/null "$BASE$first"   # warm up
echo "--- HTTP, one request at a time"
timed "history page, 10,000 commits, newest 50" "$BASE$first"
timed "history page, from the 5,000th commit" "$BASE$middle"
timed "history page, a file changed in 10 of 10,000 commits" "$BASE${first/r1.cfg/rare.cfg}"
timed "file page (200 lines, masked for display)" "$BASE$file"
kill "$pid"; wait "$pid" 2>/dev/null || true
rm -rf "$dir"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(date -u +%F)"
