# Shared by the benchmark scripts that time pages one request at a time (bench-versions.sh,
# bench-git.sh), from the repository root: `source scripts/bench-lib.sh`; they set RUNS, JAR, BASE
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
