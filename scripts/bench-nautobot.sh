#!/usr/bin/env bash
# Nautobot sync benchmark (issue "Nautobot: inventory sync ..."), on the release build: a
# 10,015-device source served by tests/fixtures/nautobot_server.py (--generate 10000, plus the
# 15 devices of tests/fixtures/nautobot_data.json), read through GraphQL in pages of 1,000. Times a preview (read + plan, nothing
# changes) and an apply (read + plan + one transaction: 10,000 devices and their tags), then a
# second apply that finds nothing to change; the app's resident memory is sampled every 100 ms
# throughout. While each sync runs, a paced probe (scripts/latency-probe.py) asks for the device
# list every 100 ms, as one user clicking around; the same probe on the idle app is the
# side-by-side reference.
# Usage: bash scripts/bench-nautobot.sh   (SQLite; NETRAVEN_DATABASE_URL=postgres://... for PG)
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${BENCH_PORT:-18095}"
PASSWORD="Bench-passw0rd-1"
BASE="http://127.0.0.1:$PORT"
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
TOKEN="0123456789abcdef0123456789abcdef01234567"

cargo build --release -q
BIN="$TARGET/release/netraven"
source scripts/bench-lib.sh

dir="$(mktemp -d)"; JAR="$dir/cookies"
export NETRAVEN_DATA_DIR="$dir" NETRAVEN_BIND="127.0.0.1:$PORT" NETRAVEN_ADMIN_PASSWORD="$PASSWORD" NETRAVEN_LOG=warn
export NETRAVEN_DATABASE_URL="${NETRAVEN_DATABASE_URL:-sqlite://$dir/bench.db?mode=rwc}"

NAUTOBOT_TEST_TOKEN="$TOKEN" python3 tests/fixtures/nautobot_server.py --port 0 \
  --data tests/fixtures/nautobot_data.json --generate 10000 >"$dir/nb.out" 2>"$dir/nb.err" & nb=$!
for _ in $(seq 100); do grep -q '^PORT ' "$dir/nb.out" 2>/dev/null && break; sleep 0.1; done
NB_URL="http://127.0.0.1:$(awk '/^PORT/ {print $2}' "$dir/nb.out")"

"$BIN" migrate >/dev/null
"$BIN" serve >"$dir/server.log" 2>&1 & pid=$!
trap 'kill $pid $nb 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.2; done
sign_in_admin
cookie="$(awk '/netraven_session/ {print $7}' "$JAR")"
post() { # path, then --data-urlencode pairs; prints the Location
  local path="$1"; shift
  local token; token="$(curl -s -b "$JAR" "$BASE/nautobot" | csrf)"
  curl -s -b "$JAR" -o /dev/null -w '%{redirect_url}' --data-urlencode "csrf_token=$token" "$@" "$BASE$path"
}
post /settings/nautobot --data-urlencode "nautobot.url=$NB_URL" --data-urlencode "nautobot.token=$TOKEN" \
  --data-urlencode nautobot.timeout_seconds=60 --data-urlencode nautobot.verify_tls=on --data-urlencode nautobot.ca_file= \
  --data-urlencode nautobot.onboard_location= --data-urlencode nautobot.onboard_role= --data-urlencode nautobot.onboard_status=Active \
  --data-urlencode nautobot.onboard_device_type= --data-urlencode nautobot.onboard_namespace=Global \
  --data-urlencode nautobot.onboard_interface=Management >/dev/null
fields=(name=bench description= locations= roles= statuses= tags= platforms= tenants= graphql_filter= port_field=ssh_port
        import_tags=on location_tag_prefix=site: role_tag_prefix= status_tag_prefix= tenant_tag_prefix= on_leave=disable
        adopt=off write_back=off write_back_field=last_backup)
args=(); for f in "${fields[@]}"; do args+=(--data-urlencode "$f"); done
source_path="$(post /nautobot "${args[@]}")"; source_path="${source_path#$BASE}"

rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
# Started in this shell (not in a command substitution), so `wait` can wait for its report.
probe() { python3 scripts/latency-probe.py "$BASE/devices?per_page=50" "netraven_session=$cookie" 0.1 >"$dir/$1.txt" 2>&1 & }

# The idle reference.
probe idle; p=$!; sleep 5; kill "$p"; wait "$p" 2>/dev/null || true
echo "device list, idle app:            $(cat "$dir/idle.txt")"

run() { # label, preview|apply
  local label="$1" action="$2" job t0 t1 peak=0 r p status
  probe "$action"; p=$!
  t0="$(date +%s.%N)"
  job="$(post "$source_path/$action")"; job="${job#$BASE}"
  while :; do
    r="$(rss)"; [ "$r" -gt "$peak" ] && peak="$r"
    status="$(curl -s -b "$JAR" "$BASE$job" | grep -o 'badge[^"]*">\(success\|failed\)<' | head -1 || true)"
    [ -n "$status" ] && break
    sleep 0.1
  done
  t1="$(date +%s.%N)"
  kill "$p"; wait "$p" 2>/dev/null || true
  printf '%-34s %6.2f s  (%s)  peak RSS %d MiB\n' "$label" "$(echo "$t1 - $t0" | bc)" "${status//[<>\"]/ }" "$((peak / 1024))"
  echo "  device list meanwhile:          $(cat "$dir/$action.txt")"
  echo "  job: $(curl -s -b "$JAR" "$BASE$job" | grep -o '</span> [^<]*read from Nautobot[^<]*\|</span> applied:[^<]*' | head -1 | sed 's/<\/span> //')"
}
echo "RSS before: $(( $(rss) / 1024 )) MiB"
run "preview, 10,015 devices" preview
run "apply, 10,015 devices" apply
run "apply again (nothing changes)" apply
echo "RSS after: $(( $(rss) / 1024 )) MiB; peak (VmHWM): $(( $(awk '/VmHWM/ {print $2}' "/proc/$pid/status") / 1024 )) MiB"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(date -u '+%F %H:%M') UTC; database: ${NETRAVEN_DATABASE_URL%%:*}"
