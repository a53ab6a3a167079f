#!/usr/bin/env bash
# End-to-end backup benchmark (issue "Backups, jobs and schedules"): devsim serves N devices
# (60% cisco_ios, 20% arista_eos, 20% juniper_junos) with 300 ms login and 1 s per command;
# NetRaven imports them, then "Back up all devices now" runs through the job system. Reports the
# wall time from the request to the finished job, the job's outcome, and the device list's
# latency while the job runs (see LOAD below).
#   SQLite: one `netraven serve` process.
#   PostgreSQL (if it answers on 127.0.0.1:5432): `serve --no-workers` plus two `worker` processes.
# Usage: bash scripts/bench-backup.sh [devices, default 1000]   (BENCH_ONLY=sqlite or postgres runs one;
# BENCH_KEEP=1 keeps the logs; BENCH_LOG sets the processes' log filter, e.g. "warn,apalis_core=debug")
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000}"
PORT="${BENCH_PORT:-18091}"
BASE="http://127.0.0.1:$PORT"
PASSWORD="Bench-passw0rd-1"
SIM_PORT="${BENCH_BASE_PORT:-23000}"
MIX="cisco_ios:60,arista_eos:20,juniper_junos:20"
# Load on the device list while the job runs: "probe" (default) is one user clicking, a request
# every 100 ms (scripts/latency-probe.py); "wrk" is 8 connections as fast as they go, a stress
# test that takes most of the two cores from the job; "browsers" is 32 browsers, each a request
# a second: 16 paging the device list (open before the job starts, as people's are) and 16
# watching the job's page from its start, its live part polled as htmx does (scripts/browsers.py;
# BENCH_BROWSERS sets how many of each; BENCH_TRACE=dir keeps every request's time).
LOAD="${BENCH_LIST_LOAD:-probe}"

if [ "${BENCH_LIST_LOAD:-probe}" = "wrk" ] && ! command -v wrk >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
cargo build --release -q -p devsim -p netraven
TARGET="${CARGO_TARGET_DIR:-$PWD/target}/release"
# BENCH_BIN=path/to/another/netraven runs that build instead (an A/B against this one).
NETRAVEN="${BENCH_BIN:-$TARGET/netraven}"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

csrf() { grep -o 'name="csrf_token" value="[^"]*"' | head -1 | cut -d'"' -f4; }
wait_up() { for _ in $(seq 100); do curl -sf "$BASE/healthz" >/dev/null && return 0; sleep 0.2; done; echo "server did not start"; exit 1; }
login() {
  local token
  token="$(curl -s -c "$JAR" "$BASE/login" | csrf)"
  curl -s -b "$JAR" -c "$JAR" -o /dev/null --data-urlencode "username=admin" \
       --data-urlencode "password=$PASSWORD" --data-urlencode "next=/" --data-urlencode "csrf_token=$token" "$BASE/login"
  TOKEN="$(curl -s -b "$JAR" "$BASE/profile" | csrf)"
}
# User + system CPU seconds of the given processes so far.
cpu_seconds() {
  local total=0 pid
  for pid in "$@"; do
    total=$(awk -v t="$total" -v hz="$(getconf CLK_TCK)" '{print t + ($14 + $15) / hz}' "/proc/$pid/stat")
  done
  echo "$total"
}
post() { curl -s -b "$JAR" -o /dev/null -w '%{redirect_url}' -H "X-CSRF-Token: $TOKEN" "$@"; }

run() {
  local name="$1" url="$2" mode="$3" dir sim pids=() job started ended cookie page
  dir="$(mktemp -d)"; JAR="$dir/cookies"
  export NETRAVEN_DATA_DIR="$dir" NETRAVEN_DATABASE_URL="$url" NETRAVEN_BIND="127.0.0.1:$PORT" \
         NETRAVEN_ADMIN_PASSWORD="$PASSWORD" NETRAVEN_LOG="${BENCH_LOG:-warn}"
  "$TARGET/devsim" --devices "$N" --mix "$MIX" --base-port "$SIM_PORT" --inventory "$dir/inventory.csv" \
      --username admin --password admin --login-latency-ms 300 --command-latency-ms 1000 >"$dir/devsim.log" 2>&1 &
  sim=$!
  for _ in $(seq 100); do [ -s "$dir/inventory.csv" ] && break; sleep 0.1; done

  # Set up: inventory, a credential on the "devsim" tag, concurrency = all devices at once.
  "$NETRAVEN" serve --no-workers >"$dir/setup.log" 2>&1 & pids=($!)
  wait_up; login
  curl -s -b "$JAR" -o /dev/null -H "X-CSRF-Token: $TOKEN" -H "HX-Request: true" \
       -F "file=@$dir/inventory.csv;type=text/csv" -F "intent=apply" "$BASE/devices/import"
  cred="$(post --data-urlencode "name=devsim" --data-urlencode "kind=ssh" --data-urlencode "username=admin" \
               --data-urlencode "secret=admin" --data "enable_secret=&private_key=&description=&valid_until=&private=off" \
               --data-urlencode "allowed_networks=127.0.0.0/8" "$BASE/credentials")"
  tag_id="$(curl -s -b "$JAR" "$BASE/tags" | grep -o 'href="/tags/[0-9]*">devsim<' | grep -o '[0-9]*' | head -1)"
  post --data "tag_id=$tag_id&priority=10" "$BASE${cred#$BASE}/tags" >/dev/null
  post --data "jobs.concurrency=$N&jobs.device_timeout_seconds=30&jobs.log_retention_days=90" "$BASE/settings/jobs" >/dev/null
  kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true

  # The measured run.
  if [ "$mode" = "one" ]; then
    "$NETRAVEN" serve >"$dir/serve.log" 2>&1 & pids=($!)
  else
    "$NETRAVEN" serve --no-workers >"$dir/serve.log" 2>&1 & pids=($!)
    "$NETRAVEN" worker >"$dir/worker1.log" 2>&1 & pids+=($!)
    "$NETRAVEN" worker >"$dir/worker2.log" 2>&1 & pids+=($!)
  fi
  wait_up; login; sleep 2
  cookie="$(awk '/netraven_session/ {print $7}' "$JAR")"
  echo "=== $name: $N devices, back up all ($mode)"
  cpu_before="$(cpu_seconds "${pids[@]}")"; sim_before="$(cpu_seconds "$sim")"
  if [ "$LOAD" = "browsers" ]; then
    BROWSERS_TRACE="${BENCH_TRACE:+$BENCH_TRACE/list-$name.txt}" python3 scripts/browsers.py "$BASE" "netraven_session=$cookie" list "${BENCH_BROWSERS:-16}" >"$dir/list.txt" 2>&1 &
    local listpid=$!
    sleep 3
  fi
  started=$(date +%s.%N)
  if [ "$LOAD" = "browsers" ]; then kill -USR1 "$listpid"; fi
  job="$(post -X POST "$BASE/backup-all")"; job="${job##*/}"
  if [ "$LOAD" = "wrk" ]; then
    wrk -t1 -c8 -d600s --latency -H "Cookie: netraven_session=$cookie" "$BASE/devices?per_page=50" >"$dir/list.txt" 2>&1 &
  elif [ "$LOAD" = "browsers" ]; then
    BROWSERS_TRACE="${BENCH_TRACE:+$BENCH_TRACE/job-$name.txt}" python3 scripts/browsers.py "$BASE" "netraven_session=$cookie" "job:$job" "${BENCH_BROWSERS:-16}" >"$dir/job.txt" 2>&1 &
  else
    python3 scripts/latency-probe.py "$BASE/devices?per_page=50" "netraven_session=$cookie" 0.1 >"$dir/list.txt" 2>&1 &
  fi
  local loadpid=$!
  # The job page open in a browser: its live part reloads every second.
  (while :; do curl -s -o /dev/null -b "$JAR" -H "HX-Request: true" "$BASE/jobs/$job"; sleep 1; done) &
  local watchpid=$!
  # The end of the job, from the (small) lists of open jobs, ten times a second. Queued before
  # running: a job moves queued -> running -> finished, so read in this order it cannot slip
  # between the two lists.
  while curl -s -b "$JAR" "$BASE/jobs?status=queued" "$BASE/jobs?status=running" | grep "href=\"/jobs/$job\"" >/dev/null; do
    sleep 0.1
  done
  ended=$(date +%s.%N)
  kill "$watchpid"; wait "$watchpid" 2>/dev/null || true
  page="$(curl -s -b "$JAR" -H "HX-Request: true" "$BASE/jobs/$job")"
  cpu_after="$(cpu_seconds "${pids[@]}")"; sim_after="$(cpu_seconds "$sim")"
  kill -TERM "$loadpid"; wait "$loadpid" 2>/dev/null || true
  if [ "$LOAD" = "browsers" ]; then kill -TERM "$listpid"; wait "$listpid" 2>/dev/null || true; fi
  echo "job $job finished in $(awk "BEGIN {printf \"%.2f\", $ended - $started}") s"
  echo "CPU during the job: NetRaven processes $(awk "BEGIN {printf \"%.2f\", $cpu_after - $cpu_before}") s, devsim $(awk "BEGIN {printf \"%.2f\", $sim_after - $sim_before}") s"
  grep -o 'badge badge-[a-z]*">[^<]*<' <<<"$page" | sed 's/.*">//; s/<$//' | awk 'NR <= 5' | tr '\n' ' '; echo
  if [ "$LOAD" = "wrk" ]; then
    echo "device list during the job (wrk, 8 connections as fast as they go):"
    grep -E 'Latency|50%|90%|99%|Requests/sec' "$dir/list.txt" || cat "$dir/list.txt"
  elif [ "$LOAD" = "browsers" ]; then
    echo "pages during the job (browsers, each a request a second):"
    cat "$dir/job.txt" "$dir/list.txt"
  else
    echo "device list during the job (one user, a request every 100 ms):"
    cat "$dir/list.txt"
  fi
  kill "${pids[@]}" "$sim"; wait "${pids[@]}" "$sim" 2>/dev/null || true
  if [ -n "${BENCH_KEEP:-}" ]; then echo "kept $dir"; else rm -rf "$dir"; fi
}

if [ "${BENCH_ONLY:-}" != "postgres" ]; then
  run "SQLite" "sqlite://$(mktemp -d)/bench.db?mode=rwc" one
fi
if [ "${BENCH_ONLY:-}" = "sqlite" ]; then
  :
elif command -v pg_isready >/dev/null && pg_isready -h 127.0.0.1 -p 5432 -q; then
  db="nrbackup_$$"
  psql -h 127.0.0.1 -U postgres -qc "create database $db"
  run "PostgreSQL" "postgres://postgres@127.0.0.1:5432/$db" two || true
  psql -h 127.0.0.1 -U postgres -qc "drop database if exists $db"
fi
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(date -u +%F)"
