# Shared by the benchmark scripts (bench-versions.sh, bench-git.sh time pages one request at a time;
# bench-push.sh, bench-discovery.sh time jobs), from the repository root: `source scripts/bench-lib.sh`; they set RUNS, JAR, BASE
# and PASSWORD.

csrf() { grep -o 'name="csrf_token" value="[^"]*"' | head -1 | cut -d'"' -f4; }

# time_total of RUNS sequential requests -> median / p95 / max in ms.
timed() {
  local label="$1"; shift
  for _ in $(seq "$RUNS"); do
    curl -s -o /dev/null -b "$JAR" -w '%{time_total} %{http_code}\n' "$@"
  done | sort -n | awk -v label="$label" '
    { t[NR] = $1; if ($2 != 200) bad++ }
    END { p95 = int(NR * 0.95 + 0.5); if (p95 < 1) p95 = 1
          printf "%-58s median %6.1f ms  p95 %6.1f ms  max %6.1f ms  (%d requests%s)\n", label,
            t[int((NR + 1) / 2)] * 1000, t[p95] * 1000, t[NR] * 1000, NR,
            bad ? ", " bad " not HTTP 200" : "" }'
}

# Sign in as admin with $PASSWORD at $BASE, keeping the session in $JAR.
sign_in_admin() {
  local token
  token="$(curl -s -c "$JAR" "$BASE/login" | csrf)"
  curl -s -b "$JAR" -c "$JAR" -o /dev/null --data-urlencode "username=admin" \
       --data-urlencode "password=$PASSWORD" --data-urlencode "next=/" --data-urlencode "csrf_token=$token" "$BASE/login"
}

# Wait until the server at $BASE answers its health check (20 s at most).
wait_up() { for _ in $(seq 100); do curl -sf "$BASE/healthz" >/dev/null && return 0; sleep 0.2; done; echo "server did not start"; exit 1; }

# sign_in_admin, then keep the CSRF token for form posts in $TOKEN.
login() {
  sign_in_admin
  TOKEN="$(curl -s -b "$JAR" "$BASE/profile" | csrf)"
}

# A form post with the session and token; prints where it redirects.
post() { curl -s -b "$JAR" -o /dev/null -w '%{redirect_url}' -H "X-CSRF-Token: $TOKEN" "$@"; }

# User + system CPU seconds of the given processes so far.
cpu_seconds() {
  local total=0 pid
  for pid in "$@"; do
    total=$(awk -v t="$total" -v hz="$(getconf CLK_TCK)" '{print t + ($14 + $15) / hz}' "/proc/$pid/stat")
  done
  echo "$total"
}

# Until job $1 has left the lists of queued and running jobs, checking every $2 seconds. Queued
# first: a job moves queued -> running -> finished, so read in this order it cannot slip between.
wait_job() {
  while curl -s -b "$JAR" "$BASE/jobs?status=queued" "$BASE/jobs?status=running" | grep "href=\"/jobs/$1\"" >/dev/null; do
    sleep "$2"
  done
}

# Calls `run NAME DATABASE_URL` on a fresh SQLite file, then on a fresh PostgreSQL database named
# after $1 when PostgreSQL answers on 127.0.0.1:5432 (BENCH_ONLY=sqlite or postgres runs one),
# and names the machine.
on_each_database() {
  if [ "${BENCH_ONLY:-}" != "postgres" ]; then
    run "SQLite" "sqlite://$(mktemp -d)/bench.db?mode=rwc"
  fi
  if [ "${BENCH_ONLY:-}" = "sqlite" ]; then
    :
  elif command -v pg_isready >/dev/null && pg_isready -h 127.0.0.1 -p 5432 -q; then
    local db="$1_$$"
    psql -h 127.0.0.1 -U postgres -qc "create database $db"
    run "PostgreSQL" "postgres://postgres@127.0.0.1:5432/$db" || true
    psql -h 127.0.0.1 -U postgres -qc "drop database if exists $db"
  fi
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(date -u +%F)"
}
