#!/usr/bin/env bash
# Inventory benchmark (issue "Inventory"): on the release build, with 10,000 seeded devices and 50
# tags, measures the device list (filtered by tag, sorted, page of 50) under concurrency 64 with
# wrk, the JSON API's device list with a token beside the page's (alternating, same data), the
# time to save-and-apply a tag rule over all devices, and a 10,000-row CSV import.
# Runs on SQLite, then on PostgreSQL when one answers on 127.0.0.1:5432.
# Besides wrk's figures, each list run prints the CPU time the server process (and, on
# PostgreSQL, all postgres processes of the machine) used per request: on a shared machine that
# moves less with other load than requests/s does.
# Usage: bash scripts/bench.sh [seconds per wrk run, default 15]
# Environment: CARGO_TARGET_DIR (where the release build goes); BENCH_COMPARE=path/to/netraven
# measures the list with that other build as well, alternating with this one on the same data
# (an A/B within one run; both builds must know the same migrations; copy that build's binary
# out of its target directory, which keeps only the last build's release/netraven);
# BENCH_ROUNDS=n repeats the list measurement n times (default 1); BENCH_ONLY=sqlite skips PostgreSQL;
# BENCH_PARTS=api measures only the JSON API's device list beside the page's (issue 17).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-15}"
ROUNDS="${BENCH_ROUNDS:-1}"
PORT="${BENCH_PORT:-18090}"
PASSWORD="Bench-passw0rd-1"
BASE="http://127.0.0.1:$PORT"

if ! command -v wrk >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
cargo build --release -q
BIN="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/release/netraven"

csrf() { grep -o 'name="csrf_token" value="[^"]*"' | head -1 | cut -d'"' -f4; }

# CPU time (user + system, in clock ticks) of one process, and of all postgres processes.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pg_ticks() { cat /proc/[0-9]*/stat 2>/dev/null | awk '$2 == "(postgres)" {s += $14 + $15} END {print s + 0}'; }

start_server() {
  "$1" serve >"$dir/server.log" 2>&1 & pid=$!
  for _ in $(seq 50); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.2; done
}

stop_server() { kill "$pid"; wait "$pid" 2>/dev/null || true; }

sign_in() {
  local token
  rm -f "$jar"
  token="$(curl -s -c "$jar" "$BASE/login" | csrf)"
  curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode "username=admin" \
       --data-urlencode "password=$PASSWORD" --data-urlencode "next=/" --data-urlencode "csrf_token=$token" "$BASE/login"
  cookie="$(awk '/netraven_session/ {print $7}' "$jar")"
}

# wrk on the device list against the running server; prints wrk's summary and CPU per request.
list_run() {
  wrk_run "$1" "$BASE/devices?tag=8&sort=ip_address&dir=desc&per_page=50" "Cookie: netraven_session=$cookie"
}

# wrk at 64 connections on `url` with one request header; wrk's summary and CPU per request.
wrk_run() {
  local label="$1" url="$2" auth="$3" out t0 p0 n
  local hz; hz="$(getconf CLK_TCK)"
  curl -s -o /dev/null -H "$auth" "$url"
  t0="$(ticks "$pid")"; p0="$(pg_ticks)"
  out="$(wrk -t2 -c64 -d"${DURATION}s" --latency -H "$auth" "$url")"
  n="$(echo "$out" | awk '/requests in/ {print $1}')"
  echo "$label"
  echo "$out" | sed -n '1,/Requests\/sec/p' | grep -E 'Latency|50%|90%|99%|Requests/sec|requests in|Non-2xx'
  echo "  CPU per request: server $(( ($(ticks "$pid") - t0) * 1000000 / hz / n )) us, postgres processes $(( ($(pg_ticks) - p0) * 1000000 / hz / n )) us"
}

# A read-only API token of the signed-in admin, made on the profile page.
api_token() {
  local form
  form="$(curl -s -b "$jar" "$BASE/profile" | csrf)"
  curl -s -b "$jar" --data-urlencode "csrf_token=$form" --data-urlencode "name=bench-$RANDOM" \
       --data-urlencode "permissions=read" --data-urlencode "expires_on=" --data-urlencode "networks=" \
       "$BASE/profile/tokens" | grep -o 'id="new-token">[^<]*' | cut -d'>' -f2
}

# The JSON API's device list against the page's, the same 50 devices, alternating.
api_vs_page() {
  local api
  echo "--- API vs page: /api/v1/devices?limit=50 (token) and /devices?per_page=50 (session), 64 connections, ${DURATION}s"
  start_server "$BIN"; sign_in
  api="$(api_token)"
  for round in $(seq "$ROUNDS"); do
    wrk_run "[round $round] page /devices?per_page=50" "$BASE/devices?per_page=50" "Cookie: netraven_session=$cookie"
    wrk_run "[round $round] API /api/v1/devices?limit=50" "$BASE/api/v1/devices?limit=50" "Authorization: Bearer $api"
  done
  stop_server
}

bench_backend() {
  local name="$1" url="$2" dir jar pid token cookie
  dir="$(mktemp -d)"; jar="$dir/cookies"
  export NETRAVEN_DATA_DIR="$dir" NETRAVEN_DATABASE_URL="$url" NETRAVEN_BIND="127.0.0.1:$PORT" \
         NETRAVEN_ADMIN_PASSWORD="$PASSWORD" NETRAVEN_LOG=warn
  echo "=== $name"
  "$BIN" dev seed --devices 10000 --tags 50
  if [ "${BENCH_PARTS:-all}" = "api" ]; then
    api_vs_page
    rm -rf "$dir"
    return
  fi

  echo "--- device list: tag filter, sorted by IP, 50 per page, 64 connections, ${DURATION}s"
  for round in $(seq "$ROUNDS"); do
    for build in "$BIN" ${BENCH_COMPARE:+"$BENCH_COMPARE"}; do
      start_server "$build"; sign_in
      list_run "[round $round] $build"
      stop_server
    done
  done

  api_vs_page

  start_server "$BIN"; sign_in
  echo "--- tag rule save-and-apply over 10,000 devices (regex on host name)"
  token="$(curl -s -b "$jar" "$BASE/tags/8/rules/new" | csrf)"
  curl -s -b "$jar" -o /dev/null -w "rule applied in %{time_total} s (HTTP %{http_code})\n" \
       --data "csrf_token=$token&name=bench&is_active=on&top_op=all&top_negate=is&intent=save&row_depth=0&row_kind=condition&row_negate=is&row_field=hostname&row_op=all&row_operator=regex&row_value=%5Eseed-0%5B0-4%5D" \
       "$BASE/tags/8/rules"

  echo "--- CSV import of 10,000 new rows (preview + apply in one request each)"
  { echo "hostname,ip,port,device_type,description,tags"
    for i in $(seq -w 0 9999); do echo "import-$i,172.16.$((10#$i / 250)).$((10#$i % 250 + 1)),22,cisco_ios,imported,imported;dc$((10#$i % 4))"; done
  } >"$dir/import.csv"
  token="$(curl -s -b "$jar" "$BASE/devices/import" | csrf)"
  for intent in preview apply; do
    curl -s -b "$jar" -o "$dir/import-$intent.html" -H "X-CSRF-Token: $token" -H "HX-Request: true" \
         -F "file=@$dir/import.csv;type=text/csv" -F "intent=$intent" \
         -w "import $intent in %{time_total} s (HTTP %{http_code})\n" "$BASE/devices/import"
  done
  grep -o 'Imported: [^<]*' "$dir/import-apply.html" || true
  stop_server
  rm -rf "$dir"
}

bench_backend "SQLite" "sqlite://$(mktemp -d)/bench.db?mode=rwc"
if [ "${BENCH_ONLY:-}" = "sqlite" ]; then
  :
elif command -v pg_isready >/dev/null && pg_isready -h 127.0.0.1 -p 5432 -q; then
  db="nrbench_$$"
  psql -h 127.0.0.1 -U postgres -qc "create database $db"
  bench_backend "PostgreSQL" "postgres://postgres@127.0.0.1:5432/$db" || true
  psql -h 127.0.0.1 -U postgres -qc "drop database if exists $db"
else
  echo "NOTICE: no PostgreSQL on 127.0.0.1:5432; PostgreSQL run skipped"
fi
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(date -u +%F)"
