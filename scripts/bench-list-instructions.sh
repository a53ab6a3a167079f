#!/usr/bin/env bash
# The device list's cost in CPU instructions (issue "Inventory"): on a database seeded like
# bench.sh's (10,000 devices, 50 tags), each given build serves `serve --no-workers` under
# valgrind's callgrind, and 300 list requests (tag filter, sorted by IP descending, 50 per page,
# 16 at a time) are counted after a warm-up. Instructions do not change with the host's speed or
# other load, unlike requests/s on these shared machines, so builds compare across runs; they
# leave out the kernel's share (thread wake-ups, sockets), which only wall-clock runs show.
# Usage: bash scripts/bench-list-instructions.sh [path/to/netraven ...]
# (default: this checkout's release build; copy other builds' binaries out of their target dirs).
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS="${BENCH_REQUESTS:-300}"
PORT="${BENCH_PORT:-18092}"
PASSWORD="Bench-passw0rd-1"
BASE="http://127.0.0.1:$PORT"
URL="$BASE/devices?tag=8&sort=ip_address&dir=desc&per_page=50"

if ! command -v valgrind >/dev/null || ! command -v callgrind_control >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
fi
if [ "$#" -eq 0 ]; then
  cargo build --release -q
  set -- "$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/release/netraven"
fi

dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
export NETRAVEN_DATA_DIR="$dir" NETRAVEN_DATABASE_URL="sqlite://$dir/bench.db?mode=rwc" \
       NETRAVEN_BIND="127.0.0.1:$PORT" NETRAVEN_ADMIN_PASSWORD="$PASSWORD" NETRAVEN_LOG=warn
"$1" dev seed --devices 10000 --tags 50

csrf() { grep -o 'name="csrf_token" value="[^"]*"' | head -1 | cut -d'"' -f4; }
requests() {
  seq "$1" | xargs -P "$2" -I{} curl -s -o /dev/null -H "Cookie: netraven_session=$cookie" "$URL"
}

for bin in "$@"; do
  valgrind --tool=callgrind --callgrind-out-file="$dir/cg.%p" "$bin" serve --no-workers \
    >"$dir/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 300); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.5; done
  jar="$dir/cookies"; rm -f "$jar"
  token="$(curl -s -c "$jar" "$BASE/login" | csrf)"
  curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode "username=admin" \
       --data-urlencode "password=$PASSWORD" --data-urlencode "next=/" --data-urlencode "csrf_token=$token" "$BASE/login"
  cookie="$(awk '/netraven_session/ {print $7}' "$jar")"
  requests 40 8
  callgrind_control -z "$pid" >/dev/null 2>&1
  requests "$REQUESTS" 16
  callgrind_control -d "$pid" >/dev/null 2>&1
  sleep 1
  total="$(awk '/^(summary|totals):/ {print $2; exit}' "$dir/cg.$pid.1")"
  echo "$bin: $((total / REQUESTS)) instructions per list request (user space, $REQUESTS requests)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -f "$dir"/cg.*
done
