#!/usr/bin/env bash
# Device engine benchmark (issue "Device engine"): devsim serves N simulated devices on loopback
# (60% cisco_ios, 20% arista_eos, 20% juniper_junos); `netraven device bench` fetches every one
# concurrently over real SSH and reports wall time, per-device p50/p95, client CPU per device and
# peak RSS of the fetching process. Two runs: no added latency, then 300 ms login + 1 s per
# command. devsim runs in its own process, so its CPU is not counted as the client's.
# Usage: bash scripts/bench-engine.sh [devices, default 1000] [concurrency, default = devices]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000}"
CONCURRENCY="${2:-$N}"
BASE_PORT="${BENCH_BASE_PORT:-21000}"
MIX="cisco_ios:60,arista_eos:20,juniper_junos:20"

cargo build --release -q -p devsim -p netraven --features netraven/bench
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
# Each device needs a listener and a connection on the devsim side.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

run() {
  local label="$1" login_ms="$2" command_ms="$3" dir pid
  dir="$(mktemp -d)"
  "$TARGET/release/devsim" --devices "$N" --mix "$MIX" --base-port "$BASE_PORT" \
      --inventory "$dir/inventory.csv" --username admin --password admin \
      --login-latency-ms "$login_ms" --command-latency-ms "$command_ms" >"$dir/devsim.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do [ -s "$dir/inventory.csv" ] && grep -q . "$dir/devsim.log" && break; sleep 0.1; done
  echo "=== $label: $N devices, concurrency $CONCURRENCY"
  echo admin | "$TARGET/release/netraven" device bench --inventory "$dir/inventory.csv" \
      --username admin --password-stdin --concurrency "$CONCURRENCY" --timeout 30
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
}

run "no added latency" 0 0
run "300 ms login + 1 s per command" 300 1000
