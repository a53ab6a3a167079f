#!/usr/bin/env bash
# Configuration push benchmark (issue "Templates ... configuration push"): devsim serves N
# devices (60% cisco_ios, 20% arista_eos, 20% juniper_junos) with 300 ms login and 1 s per
# command; NetRaven imports them and pushes a template of 10 lines to all of them with
# concurrency N (each device: login, paging off, configuration mode, 10 lines one by one, leave
# or commit, then the backup that reads the configuration back). Reports the dry run's time (all
# devices rendered and compared with their stored configurations), the apply job's wall time from
# the confirmed request to the finished job, CPU, the devices' outcomes and the server's peak RSS.
# Usage: bash scripts/bench-push.sh [devices, default 1000]   (BENCH_ONLY=sqlite or postgres runs
# one; BENCH_KEEP=1 keeps the logs)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000}"
PORT="${BENCH_PORT:-18093}"
BASE="http://127.0.0.1:$PORT"
PASSWORD="Bench-passw0rd-1"
SIM_PORT="${BENCH_BASE_PORT:-31000}"
MIX="cisco_ios:60,arista_eos:20,juniper_junos:20"
TEMPLATE='{% for i in range(1, 11) %}{% if device.platform == "juniper_junos" %}set system ntp server 192.0.2.{{ i }}{% else %}ntp server 192.0.2.{{ i }}{% endif %}
{% endfor %}'

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
  "$TARGET/devsim" --devices "$N" --mix "$MIX" --base-port "$SIM_PORT" --inventory "$dir/inventory.csv" \
      --username admin --password admin --login-latency-ms 300 --command-latency-ms 1000 >"$dir/devsim.log" 2>&1 &
  sim=$!
  for _ in $(seq 100); do [ -s "$dir/inventory.csv" ] && break; sleep 0.1; done
  "$NETRAVEN" serve >"$dir/serve.log" 2>&1 & pid=$!
  wait_up; login
  curl -s -b "$JAR" -o /dev/null -H "X-CSRF-Token: $TOKEN" -H "HX-Request: true" \
       -F "file=@$dir/inventory.csv;type=text/csv" -F "intent=apply" "$BASE/devices/import"
  cred="$(post --data-urlencode "name=devsim" --data-urlencode "kind=ssh" --data-urlencode "username=admin" \
               --data-urlencode "secret=admin" --data "enable_secret=&private_key=&description=&valid_until=&private=off" \
               --data-urlencode "allowed_networks=127.0.0.0/8" "$BASE/credentials")"
  tag_id="$(curl -s -b "$JAR" "$BASE/tags" | grep -o 'href="/tags/[0-9]*">devsim<' | grep -o '[0-9]*' | head -1)"
  post --data "tag_id=$tag_id&priority=10" "$BASE${cred#$BASE}/tags" >/dev/null
  post --data "jobs.concurrency=$N&jobs.device_timeout_seconds=30&jobs.log_retention_days=90" "$BASE/settings/jobs" >/dev/null
  template="$(post --data-urlencode "name=ntp-servers" --data "template_type=jinja2&category=&description=&variables=&scope=global&change_note=" \
                   --data-urlencode "content=$TEMPLATE" "$BASE/templates")"
  template="${template##*/}"
  # The workers read the concurrency when they start.
  kill "$pid"; wait "$pid" 2>/dev/null || true
  "$NETRAVEN" serve >"$dir/serve.log" 2>&1 & pid=$!
  wait_up; login
  # A first backup, so the dry run has configurations to compare with (not measured).
  job="$(post -X POST "$BASE/backup-all")"; job="${job##*/}"
  wait_job "$job" 0.5
  fields=(--data "source=template&template_id=$template&values=&lines=&devices=&tag_id=$tag_id")
  echo "=== $name: $N devices, push 10 lines"
  started=$(date +%s.%N)
  curl -s -b "$JAR" -H "X-CSRF-Token: $TOKEN" "${fields[@]}" --data "action=dry_run" "$BASE/push" \
    | grep -o 'Dry run: [^<]*' || true
  echo "dry run: $(awk "BEGIN {printf \"%.2f\", $(date +%s.%N) - $started}") s"
  cpu_before="$(cpu_seconds "$pid")"; sim_before="$(cpu_seconds "$sim")"
  started=$(date +%s.%N)
  job="$(post "${fields[@]}" --data "action=apply&confirm=$N" "$BASE/push")"; job="${job##*/}"
  echo "apply request answered after $(awk "BEGIN {printf \"%.2f\", $(date +%s.%N) - $started}") s (rendered, kept and queued)"
  wait_job "$job" 0.1
  ended=$(date +%s.%N)
  cpu_after="$(cpu_seconds "$pid")"; sim_after="$(cpu_seconds "$sim")"
  echo "push job $job finished in $(awk "BEGIN {printf \"%.2f\", $ended - $started}") s"
  echo "CPU during the push: NetRaven $(awk "BEGIN {printf \"%.2f\", $cpu_after - $cpu_before}") s, devsim $(awk "BEGIN {printf \"%.2f\", $sim_after - $sim_before}") s"
  echo "NetRaven peak RSS: $(awk '/VmHWM/ {printf "%.1f MiB", $2 / 1024}' "/proc/$pid/status")"
  # Where the time went, from the job's own records: queued to the first device started, the
  # sessions, and the last session's end to the last result written.
  local q="select extract(epoch from min(r.started_at) - j.created_at), extract(epoch from max(r.started_at) - min(r.started_at)),
                  avg(r.duration_ms) / 1000.0, max(r.duration_ms) / 1000.0, min(r.duration_ms) / 1000.0,
                  extract(epoch from max(r.finished_at) - min(r.started_at))
           from job_results r join job_logs j on j.id = r.job_log_id where j.id = $job group by j.created_at"
  if [[ "$url" == postgres* ]]; then
    psql "$url" -Atc "$q" | awk -F'|' '{printf "first device after %.2f s, all started within %.2f s; sessions mean %.2f s, max %.2f s, min %.2f s; last result %.2f s after the first start\n", $1, $2, $3, $4, $5, $6}'
  else
    python3 - "${url#sqlite://}" "$job" <<'PY'
import sqlite3, sys
from datetime import datetime
db = sys.argv[1].split("?")[0]
c = sqlite3.connect(db)
t = lambda s: datetime.fromisoformat(s[:26].rstrip("Z"))
created = t(c.execute("select created_at from job_logs where id = ?", (sys.argv[2],)).fetchone()[0])
rows = c.execute("select started_at, finished_at, duration_ms from job_results where job_log_id = ?", (sys.argv[2],)).fetchall()
starts = [t(r[0]) for r in rows]; ends = [t(r[1]) for r in rows]; d = [r[2] / 1000 for r in rows]
print("first device after %.2f s, all started within %.2f s; sessions mean %.2f s, max %.2f s, min %.2f s; last result %.2f s after the first start"
      % ((min(starts) - created).total_seconds(), (max(starts) - min(starts)).total_seconds(), sum(d) / len(d), max(d), min(d),
         (max(ends) - min(starts)).total_seconds()))
PY
  fi
  curl -s -b "$JAR" "$BASE/push/jobs/$job" | grep -o 'badge badge-[a-z]*">[a-z]*<' | sed 's/.*">//; s/<$//' \
    | sort | uniq -c | tr '\n' ' '; echo
  kill "$pid" "$sim"; wait "$pid" "$sim" 2>/dev/null || true
  if [ -n "${BENCH_KEEP:-}" ]; then echo "kept $dir"; else rm -rf "$dir"; fi
}

on_each_database nrpush
