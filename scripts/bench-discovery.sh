#!/usr/bin/env bash
# Discovery benchmark (issue "Network discovery"): devsim serves 200 devices (60% cisco_ios, 20%
# arista_eos, 20% juniper_junos) with 300 ms login latency, each on its own address of
# 127.0.4.0/22 (`--spread`, one port); NetRaven scans the whole /22 (1,022 addresses: the 200
# devices and 822 closed addresses) with the scan form's defaults (concurrency 128, timeout 5 s,
# the settings' rate of 500 connections a second) and one credential. Reports the scan's wall time
# from the request to the finished job, the outcomes, NetRaven's CPU and peak RSS.
# Usage: bash scripts/bench-discovery.sh   (BENCH_ONLY=sqlite or postgres runs one; BENCH_KEEP=1
# keeps the logs; BENCH_NO_BUILD=1 uses the binaries as built)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${BENCH_DEVICES:-200}"
RANGE="127.0.4.0/22"
PORT="${BENCH_PORT:-18094}"
BASE="http://127.0.0.1:$PORT"
PASSWORD="Bench-passw0rd-1"
SIM_PORT="${BENCH_SIM_PORT:-2200}"
MIX="cisco_ios:60,arista_eos:20,juniper_junos:20"

[ -n "${BENCH_NO_BUILD:-}" ] || cargo build --release -q -p devsim -p netraven
TARGET="${CARGO_TARGET_DIR:-$PWD/target}/release"
NETRAVEN="${BENCH_BIN:-$TARGET/netraven}"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

source scripts/bench-lib.sh

run() {
  local name="$1" url="$2" dir sim pid job started ended
  dir="$(mktemp -d)"; JAR="$dir/cookies"
  export NETRAVEN_DATA_DIR="$dir" NETRAVEN_DATABASE_URL="$url" NETRAVEN_BIND="127.0.0.1:$PORT" \
         NETRAVEN_ADMIN_PASSWORD="$PASSWORD" NETRAVEN_LOG="${BENCH_LOG:-warn}"
  "$TARGET/devsim" --devices "$N" --mix "$MIX" --spread "$RANGE" --base-port "$SIM_PORT" \
      --inventory "$dir/inventory.csv" --username admin --password admin --login-latency-ms 300 >"$dir/devsim.log" 2>&1 &
  sim=$!
  for _ in $(seq 100); do [ -s "$dir/inventory.csv" ] && break; sleep 0.1; done
  "$NETRAVEN" serve >"$dir/serve.log" 2>&1 & pid=$!
  wait_up; login
  cred="$(post --data-urlencode "name=devsim" --data-urlencode "kind=ssh" --data-urlencode "username=admin" \
               --data-urlencode "secret=admin" --data "enable_secret=&private_key=&description=&valid_until=&private=off" \
               --data-urlencode "allowed_networks=127.0.0.0/8" "$BASE/credentials")"
  cred="${cred##*/}"
  echo "=== $name: scan $RANGE (port $SIM_PORT), $N devsim devices with 300 ms login"
  cpu_before="$(cpu_seconds "$pid")"
  started=$(date +%s.%N)
  job="$(post --data-urlencode "ranges=$RANGE" --data "exclude=&ports=$SIM_PORT&credential_ids=$cred&tag_id=&concurrency=&timeout_seconds=" "$BASE/discovery")"
  job="${job##*/}"
  wait_job "$job" 0.1
  ended=$(date +%s.%N)
  cpu_after="$(cpu_seconds "$pid")"
  echo "scan job $job finished in $(awk "BEGIN {printf \"%.2f\", $ended - $started}") s"
  echo "CPU during the scan: NetRaven $(awk "BEGIN {printf \"%.2f\", $cpu_after - $cpu_before}") s"
  echo "NetRaven peak RSS: $(awk '/VmHWM/ {printf "%.1f MiB", $2 / 1024}' "/proc/$pid/status")"
  curl -s -b "$JAR" "$BASE/discovery/jobs/$job" | grep -o '<span class="badge badge-[a-z]*">[0-9]* [a-z_]*<' \
    | sed 's/.*">//; s/<$//' | tr '\n' ' '; echo
  kill "$pid" "$sim"; wait "$pid" "$sim" 2>/dev/null || true
  if [ -n "${BENCH_KEEP:-}" ]; then echo "kept $dir"; else rm -rf "$dir"; fi
}

on_each_database nrdisc
