#!/usr/bin/env bash
# Stored-versions benchmark (issue "Backups, jobs and schedules", the read side): on the release
# build, with 10,000 seeded devices each holding a latest configuration (~300 lines, stored
# unmasked with secrets), one device with 10,000 versions and one with two 10,000-line versions:
#   - in process (`netraven dev bench-versions`): the diff service on the two 10,000-line
#     versions, and the configuration search across the 10,000 latest configurations;
#   - over HTTP (curl, one request at a time, signed in as admin with secrets hidden, i.e. the
#     search masks every configuration as it does for a viewer): the history page of the
#     10,000-version device (first, middle and last page, and the htmx fragment), the diff page
#     of the two 10,000-line versions, and the search page.
# Runs on SQLite, then on PostgreSQL when one answers on 127.0.0.1:5432.
# Usage: bash scripts/bench-versions.sh [requests per HTTP measurement, default 50]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-50}"
PORT="${BENCH_PORT:-18093}"
PASSWORD="Bench-passw0rd-1"
BASE="http://127.0.0.1:$PORT"
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"

cargo build --release -q --features bench
BIN="$TARGET/release/netraven"

source scripts/bench-lib.sh

bench_backend() {
  local name="$1" url="$2" dir pid token ids history diff
  dir="$(mktemp -d)"; JAR="$dir/cookies"
  export NETRAVEN_DATA_DIR="$dir" NETRAVEN_DATABASE_URL="$url" NETRAVEN_BIND="127.0.0.1:$PORT" \
         NETRAVEN_ADMIN_PASSWORD="$PASSWORD" NETRAVEN_LOG=warn
  echo "=== $name"
  "$BIN" dev seed --devices 10000 --tags 50
  "$BIN" dev bench-versions --seed-only
  if [[ "$url" == postgres* ]]; then
    # What autovacuum does shortly after a bulk load: statistics for the planner and the
    # visibility map that lets the (device_id, version) index answer without the table.
    psql "$url" -qc "VACUUM ANALYZE"
  fi
  "$BIN" dev bench-versions --runs 9 | tee "$dir/bench.out"
  ids="$(grep -o 'HISTORY_DEVICE=[0-9]* DIFF_DEVICE=[0-9]*' "$dir/bench.out")"
  history="$(echo "$ids" | sed 's/.*HISTORY_DEVICE=\([0-9]*\).*/\1/')"
  diff="$(echo "$ids" | sed 's/.*DIFF_DEVICE=\([0-9]*\).*/\1/')"

  "$BIN" serve >"$dir/server.log" 2>&1 & pid=$!
  for _ in $(seq 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.2; done
  sign_in_admin
  curl -s -b "$JAR" -o /dev/null "$BASE/devices/$history/backups"   # warm up

  echo "--- HTTP, one request at a time"
  timed "history, 10,000 versions, page 1 of 200" "$BASE/devices/$history/backups"
  timed "history, page 100 of 200" "$BASE/devices/$history/backups?page=100&per_page=50"
  timed "history, page 200 of 200 (oldest)" "$BASE/devices/$history/backups?page=200&per_page=50"
  timed "history, page 1, htmx fragment" -H "HX-Request: true" "$BASE/devices/$history/backups"
  timed "device page with the Backups panel" "$BASE/devices/$history"
  timed "diff page, two 10,000-line versions, unified, context 3" "$BASE/devices/$diff/backups/2/changes"
  timed "diff page, side by side, context 3" "$BASE/devices/$diff/backups/diff?from=1&to=2&view=side"
  RUNS=5 timed "search page: regex over 10,000 latest configs (masked)" \
       "$BASE/search?mode=regex&q=%5Einterface+GigabitEthernet%5Cd%2B%2F0%2F%281%7C2%29%24"
  RUNS=5 timed "search page: substring over 10,000 latest configs" "$BASE/search?q=ntp+server+10.9.9.10"
  if command -v wrk >/dev/null; then
    local cookie; cookie="Cookie: netraven_session=$(awk '/netraven_session/ {print $7}' "$JAR")"
    for page in "/devices/$history/backups" "/profile"; do
      echo "--- $page under load: wrk -t2 -c8 -d10s (/profile: session, user and a small page, for scale)"
      wrk -t2 -c8 -d10s --latency -H "$cookie" "$BASE$page" | grep -E 'Latency|50%|99%|Requests/sec|Non-2xx'
    done
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
}

bench_backend "SQLite" "sqlite://$(mktemp -d)/bench.db?mode=rwc"
if command -v pg_isready >/dev/null && pg_isready -h 127.0.0.1 -p 5432 -q; then
  db="nrbench_versions_$$"
  psql -h 127.0.0.1 -U postgres -qc "create database $db"
  bench_backend "PostgreSQL" "postgres://postgres@127.0.0.1:5432/$db" || true
  psql -h 127.0.0.1 -U postgres -qc "drop database if exists $db"
else
  echo "NOTICE: no PostgreSQL on 127.0.0.1:5432; PostgreSQL run skipped"
fi
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(date -u +%F)"
