#!/usr/bin/env bash
# nautobot-real.sh: bring up a REAL Nautobot (from PyPI) on 127.0.0.1 for NetRaven's integration
# tests, seeded with the small known inventory of tests/fixtures/nautobot_seed.py.
#
# Why: a mock cannot tell us how Nautobot really answers (natural-key lookups, depth=1 shapes,
# GraphQL quirks, 403s). A cold start costs ~5 min (venv + 471 migrations), so everything slow is
# cached under NB_CACHE: the venv (per version), a post-migrate pg_dump with the admin user and
# both tokens (per version), and a dump taken after the seed (per seed script version). A warm start
# restores a dump instead of migrating and takes seconds.
# See docs/dev/nautobot.md ("scripts/nautobot-real.sh") for what was measured.
#
# Usage:
#   eval "$(scripts/nautobot-real.sh start)"   # stdout: ONE line of KEY=value pairs:
#       NAUTOBOT_URL=http://127.0.0.1:PORT NAUTOBOT_TOKEN=<rw> NAUTOBOT_TOKEN_RO=<ro> NAUTOBOT_PID=<pid>
#   ... run the tests ...
#   scripts/nautobot-real.sh stop
#   scripts/nautobot-real.sh env               # the same line again, if the server is still up
# Progress and per-step timings ("[nautobot] pip install 26.1s") go to stderr. `start` is
# idempotent: it stops a server it started before. The device ids of the seeded inventory are
# written to $NB_RUN_DIR/seed.json.
#
# Needs: python3.11 (venv), curl, PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth), Redis
# at 127.0.0.1:6379. The PostgreSQL client tools are apt-get installed when missing. uv is used
# for the venv (installed from PyPI into a bootstrap venv when not on PATH), pip as a fallback.
# Only loopback addresses are ever connected to (apart from the package registries).
#
# Settings (environment, with defaults):
#   NB_VERSION=3.2.7   NB_PORT=8765 (or a free port if 8765 is taken and NB_PORT is unset)
#   NB_DB=netraven_nautobot_ci (dropped and recreated by every start)
#   NB_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/netraven/nautobot   (venv-<version>/, *.dump, uv)
#   NB_RUN_DIR=/tmp/netraven-nautobot   (config, logs, pid, seed.json)
#   NB_TOKEN_RW / NB_TOKEN_RO (fixed 40-hex test tokens)   NB_REDIS_DB=5 (flushed by start)
#   NB_SEED=1 (0: skip the seed)   NB_HEALTH_TIMEOUT=60   NB_PYTHON=python3.11
set -euo pipefail

# stdout is reserved for the single KEY=value line; everything else goes to stderr.
exec 3>&1 1>&2

NB_VERSION=${NB_VERSION:-3.2.7}
NB_PORT_SET=${NB_PORT:+1}
NB_PORT=${NB_PORT:-8765}
NB_DB=${NB_DB:-netraven_nautobot_ci}
NB_CACHE=${NB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/netraven/nautobot}
NB_RUN_DIR=${NB_RUN_DIR:-/tmp/netraven-nautobot}
NB_TOKEN_RW=${NB_TOKEN_RW:-0123456789abcdef0123456789abcdef01234567}
NB_TOKEN_RO=${NB_TOKEN_RO:-fedcba9876543210fedcba9876543210fedcba98}
NB_REDIS_DB=${NB_REDIS_DB:-5}
NB_SEED=${NB_SEED:-1}
NB_HEALTH_TIMEOUT=${NB_HEALTH_TIMEOUT:-60}
NB_PYTHON=${NB_PYTHON:-python3.11}

PG_HOST=127.0.0.1
PG_PORT=5432
REDIS_HOST=127.0.0.1
REDIS_PORT=6379
PG=(-h "$PG_HOST" -p "$PG_PORT" -U postgres)
export PGCONNECT_TIMEOUT=5

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=$NB_CACHE/venv-$NB_VERSION
NBS=$VENV/bin/nautobot-server
# The dump holds the admin user and both tokens, so it is keyed by them as well as the version.
TOKHASH=$(printf '%s:%s' "$NB_TOKEN_RW" "$NB_TOKEN_RO" | sha256sum | cut -c1-8)
DUMP=$NB_CACHE/nautobot-$NB_VERSION-$TOKHASH.dump
# The same after a successful seed, keyed also by the seed script, so a warm start skips the ~40
# POSTs (the seed still runs, finds everything and prints the ids; the ids stay the same).
SEED_SCRIPT=$REPO/tests/fixtures/nautobot_seed.py
SEEDED_DUMP=$NB_CACHE/nautobot-$NB_VERSION-$TOKHASH-seed-$(sha256sum "$SEED_SCRIPT" | cut -c1-8).dump
SEEDED_FROM_CACHE=0
PIDFILE=$NB_RUN_DIR/server.pid
ENVFILE=$NB_RUN_DIR/env
LOG=$NB_RUN_DIR/server.log

log() { printf '[nautobot] %s\n' "$*"; }
die() { printf '[nautobot] ERROR: %s\n' "$*"; exit 1; }
now() { local t=${EPOCHREALTIME/[.,]/}; echo "${t}"; }   # microseconds
lap() { # lap LABEL START_US
  local d=$(( ($(now) - $2) / 100000 ))
  printf '[nautobot] %-28s %d.%ds\n' "$1" $((d / 10)) $((d % 10))
}
curl_lo() { curl --noproxy '*' -s "$@"; }

# --- stop -------------------------------------------------------------------------------------
is_our_server() { # pid -> 0 if it is alive and a nautobot-server
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q 'nautobot-server'
}

stop_server() {
  local pid
  if [ ! -f "$PIDFILE" ]; then
    log "stop: no server running (no $PIDFILE)"
    return 0
  fi
  pid=$(cat "$PIDFILE")
  if is_our_server "$pid"; then
    log "stop: stopping nautobot-server pid $pid"
    # started with setsid, so the pid is also its process group: take any children with it
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "stop: pid $pid ignored SIGTERM for 10 s, sending SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  else
    log "stop: pid $pid from $PIDFILE is not running"
  fi
  rm -f "$PIDFILE" "$ENVFILE"
}

# --- checks and installs ----------------------------------------------------------------------
redis_cmd() { # redis_cmd "CMD ARGS" ... -> prints the reply line of the last command
  ( exec 9<>"/dev/tcp/$REDIS_HOST/$REDIS_PORT" || exit 1
    local c r=""
    for c in "$@"; do printf '%s\r\n' "$c" >&9; IFS= read -r -t 3 r <&9 || exit 1; done
    printf '%s\n' "${r%$'\r'}" ) 2>/dev/null
}

ensure_pg_client() {
  local t missing=() sudo=""
  for t in createdb dropdb pg_dump pg_restore pg_isready psql; do
    command -v "$t" >/dev/null || missing+=("$t")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "PostgreSQL client tools missing (${missing[*]}): apt-get install postgresql-client"
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "not root and no sudo: install postgresql-client (${missing[*]}) first"
    sudo=sudo
  fi
  t=$(now)
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql-client >/dev/null
  lap "apt-get postgresql-client" "$t"
}

check_prereqs() {
  local ver reply cli_major srv_num
  command -v curl >/dev/null || die "curl is missing (apt-get install curl)"
  command -v "$NB_PYTHON" >/dev/null || die "$NB_PYTHON is missing (Nautobot $NB_VERSION needs Python 3.10-3.13)"
  ver=$("$NB_PYTHON" -c 'import sys, venv; print("%d.%d" % sys.version_info[:2])') ||
    die "$NB_PYTHON cannot import venv (Debian: apt-get install python3-venv)"
  ensure_pg_client
  pg_isready -h "$PG_HOST" -p "$PG_PORT" -q ||
    die "PostgreSQL is not answering on $PG_HOST:$PG_PORT (start it first, e.g. service postgresql start)"
  srv_num=$(psql "${PG[@]}" -d postgres -XAtc 'show server_version_num' 2>&1) ||
    die "PostgreSQL at $PG_HOST:$PG_PORT refused user postgres without a password (trust auth needed): $srv_num"
  cli_major=$(pg_dump --version | sed -E 's/.* ([0-9]+)[.0-9]*.*/\1/')
  [ "$cli_major" -ge $((srv_num / 10000)) ] ||
    die "pg_dump $cli_major is older than the server ($((srv_num / 10000))): install postgresql-client-$((srv_num / 10000))"
  reply=$(redis_cmd PING) || die "Redis is not answering on $REDIS_HOST:$REDIS_PORT (start redis-server first)"
  [ "$reply" = "+PONG" ] || die "Redis on $REDIS_HOST:$REDIS_PORT answered PING with '$reply' (auth? Nautobot is configured without a password)"
  log "python $ver, PostgreSQL $((srv_num / 10000)) and Redis answer on loopback"
}

venv_ok() {
  [ -x "$NBS" ] && [ "$(cat "$VENV/.netraven-installed" 2>/dev/null)" = "$NB_VERSION" ]
}

find_uv() { # prints a uv binary, installing uv into a bootstrap venv from PyPI if needed
  local boot=$NB_CACHE/uv-bootstrap
  if command -v uv >/dev/null; then command -v uv; return 0; fi
  if [ ! -x "$boot/bin/uv" ]; then
    rm -rf "$boot"
    if ! { "$NB_PYTHON" -m venv "$boot" && "$boot/bin/pip" install -q --disable-pip-version-check uv; } >&2; then
      rm -rf "$boot"
      return 1
    fi
  fi
  echo "$boot/bin/uv"
}

ensure_venv() {
  local t uv py
  if venv_ok; then
    log "venv: nautobot $NB_VERSION already in $VENV"
    return 0
  fi
  mkdir -p "$NB_CACHE"
  rm -rf "$VENV"
  t=$(now)
  if uv=$(find_uv); then
    lap "uv bootstrap" "$t"
    t=$(now)
    # a real interpreter path, not a pyenv shim
    py=$("$NB_PYTHON" -c 'import sys; print(sys.executable)')
    export UV_CACHE_DIR=${UV_CACHE_DIR:-$NB_CACHE/uv-cache}
    if "$uv" venv -q --python "$py" "$VENV" && "$uv" pip install -q --python "$VENV/bin/python" "nautobot==$NB_VERSION"; then
      lap "uv pip install" "$t"
    else
      log "uv failed; falling back to pip"
      rm -rf "$VENV"
    fi
  else
    log "could not install uv from PyPI; falling back to pip"
  fi
  if [ ! -x "$NBS" ]; then
    t=$(now)
    "$NB_PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "nautobot==$NB_VERSION"
    lap "pip install" "$t"
  fi
  "$VENV/bin/python" -c 'import nautobot' || die "nautobot $NB_VERSION did not install into $VENV"
  echo "$NB_VERSION" >"$VENV/.netraven-installed"
}

write_config() {
  mkdir -p "$NB_RUN_DIR"
  cat >"$NB_RUN_DIR/nautobot_config.py" <<EOF
# Written by scripts/nautobot-real.sh: test-only Nautobot config, loopback only.
from nautobot.core.settings import *  # noqa: F401,F403

ALLOWED_HOSTS = ["*"]
SECRET_KEY = "netraven-ci-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGH"
INSTALLATION_METRICS_ENABLED = False  # otherwise post_upgrade phones home
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "$NB_DB",
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": "$PG_HOST",
        "PORT": "$PG_PORT",
        "CONN_MAX_AGE": 300,
    }
}
CACHES["default"]["BACKEND"] = "django_redis.cache.RedisCache"
CACHES["default"]["LOCATION"] = "redis://$REDIS_HOST:$REDIS_PORT/$NB_REDIS_DB"
CELERY_BROKER_URL = "redis://$REDIS_HOST:$REDIS_PORT/$NB_REDIS_DB"
EOF
}

# --- database ---------------------------------------------------------------------------------
prepare_db() {
  local t
  t=$(now)
  PGOPTIONS="-c client_min_messages=warning" dropdb "${PG[@]}" --if-exists --force "$NB_DB"
  createdb "${PG[@]}" "$NB_DB"
  # cached Redis entries would refer to the previous database's objects
  redis_cmd "SELECT $NB_REDIS_DB" FLUSHDB >/dev/null || die "Redis FLUSHDB on db $NB_REDIS_DB failed"
  if [ "$NB_SEED" = 1 ] && [ -s "$SEEDED_DUMP" ]; then
    pg_restore "${PG[@]}" -d "$NB_DB" --no-owner --no-privileges --exit-on-error "$SEEDED_DUMP" ||
      die "pg_restore of $SEEDED_DUMP failed (delete it to seed from scratch)"
    SEEDED_FROM_CACHE=1
    lap "pg_restore (seeded dump)" "$t"
    return 0
  fi
  if [ -s "$DUMP" ]; then
    pg_restore "${PG[@]}" -d "$NB_DB" --no-owner --no-privileges --exit-on-error "$DUMP" ||
      die "pg_restore of $DUMP failed (delete it to migrate from scratch)"
    lap "pg_restore (cached dump)" "$t"
    return 0
  fi
  log "no cached dump $DUMP: running all migrations (~250 s)"
  "$NBS" migrate --no-input >"$NB_RUN_DIR/migrate.log" 2>&1 ||
    { tail -30 "$NB_RUN_DIR/migrate.log"; die "nautobot-server migrate failed (log: $NB_RUN_DIR/migrate.log)"; }
  lap "migrate (cold)" "$t"
  t=$(now)
  "$NBS" nbshell >"$NB_RUN_DIR/nbshell.log" 2>&1 <<EOF ||
from nautobot.users.models import Token, User
u = User.objects.filter(username="admin").first() or User.objects.create_superuser("admin", "admin@example.com", "admin123")
Token.objects.update_or_create(key="$NB_TOKEN_RW", defaults={"user": u, "write_enabled": True, "description": "netraven-ci-rw"})
Token.objects.update_or_create(key="$NB_TOKEN_RO", defaults={"user": u, "write_enabled": False, "description": "netraven-ci-ro"})
EOF
    { tail -30 "$NB_RUN_DIR/nbshell.log"; die "creating the superuser and tokens failed"; }
  lap "superuser + tokens" "$t"
  t=$(now)
  dump_to "$DUMP"
  lap "pg_dump -> cache" "$t"
}

dump_to() { # atomically: a reader never sees a half-written dump
  local tmp
  tmp=$(mktemp "$1.tmp.XXXXXX")
  pg_dump "${PG[@]}" -Fc -f "$tmp" "$NB_DB" || { rm -f "$tmp"; die "pg_dump failed"; }
  mv -f "$tmp" "$1"
}

# --- server -----------------------------------------------------------------------------------
port_in_use() { (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pick_port() {
  if port_in_use "$NB_PORT"; then
    [ -z "$NB_PORT_SET" ] || die "NB_PORT=$NB_PORT is already in use on 127.0.0.1"
    NB_PORT=$("$NB_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    log "port 8765 is taken; using free port $NB_PORT"
  fi
}

start_server() {
  local t pid code deadline url=http://127.0.0.1:$NB_PORT
  t=$(now)
  # setsid: own session and process group, so it outlives this script. The exec shim closes every
  # inherited fd above 2 (our stdout pipe on fd 3, a caller's pipes): otherwise `$(... start)`
  # would wait for the server to exit. exec keeps the pid, so $! is the server's pid.
  setsid "$VENV/bin/python" -c 'import os, sys; os.closerange(3, 65536); os.execv(sys.argv[1], sys.argv[1:])' \
    "$NBS" runserver "127.0.0.1:$NB_PORT" --noreload </dev/null >"$LOG" 2>&1 &
  pid=$!
  echo "$pid" >"$PIDFILE"
  deadline=$(( $(now) + NB_HEALTH_TIMEOUT * 1000000 ))
  while :; do
    code=$(curl_lo -o /dev/null -w '%{http_code}' --max-time 5 "$url/health/" || true)
    [ "$code" = 200 ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -40 "$LOG"; rm -f "$PIDFILE"; die "nautobot-server exited before /health/ answered (log: $LOG)"
    fi
    if [ "$(now)" -gt "$deadline" ]; then
      tail -40 "$LOG"; die "/health/ not 200 after ${NB_HEALTH_TIMEOUT}s (last HTTP ${code:-none}; log: $LOG)"
    fi
    sleep 0.2
  done
  code=$(curl_lo -o /dev/null -w '%{http_code}' -H "Authorization: Token $NB_TOKEN_RW" "$url/api/" || true)
  [ "$code" = 200 ] || { tail -20 "$LOG"; die "GET /api/ with the rw token gave HTTP $code (stale dump? delete $DUMP)"; }
  lap "runserver -> /health/ 200" "$t"
}

# --- commands ---------------------------------------------------------------------------------
on_start_exit() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ -f "$PIDFILE" ]; then stop_server; fi
  exit "$rc"
}

cmd_start() {
  local t0 t
  t0=$(now)
  [[ $NB_TOKEN_RW =~ ^[0-9a-f]{40}$ && $NB_TOKEN_RO =~ ^[0-9a-f]{40}$ ]] ||
    die "NB_TOKEN_RW and NB_TOKEN_RO must be 40 lowercase hex characters"
  mkdir -p "$NB_RUN_DIR" "$NB_CACHE"
  stop_server
  # a failed start leaves no server behind (its log stays in $NB_RUN_DIR)
  trap on_start_exit EXIT
  check_prereqs
  pick_port
  ensure_venv
  export NAUTOBOT_ROOT="$NB_RUN_DIR" NAUTOBOT_CONFIG="$NB_RUN_DIR/nautobot_config.py"
  write_config
  prepare_db
  start_server
  if [ "$NB_SEED" = 1 ]; then
    t=$(now)
    NAUTOBOT_URL="http://127.0.0.1:$NB_PORT" NAUTOBOT_TOKEN="$NB_TOKEN_RW" \
      "$NB_PYTHON" "$SEED_SCRIPT" >"$NB_RUN_DIR/seed.json" ||
      die "seeding failed (log of the server: $LOG)"
    lap "seed" "$t"
    log "seeded devices: $(cat "$NB_RUN_DIR/seed.json")"
    if [ "$SEEDED_FROM_CACHE" = 0 ]; then
      t=$(now)
      rm -f "$NB_CACHE/nautobot-$NB_VERSION-$TOKHASH-seed-"*.dump   # older seed scripts' dumps
      dump_to "$SEEDED_DUMP"
      lap "pg_dump seeded -> cache" "$t"
    fi
  fi
  echo "NAUTOBOT_URL=http://127.0.0.1:$NB_PORT NAUTOBOT_TOKEN=$NB_TOKEN_RW NAUTOBOT_TOKEN_RO=$NB_TOKEN_RO NAUTOBOT_PID=$(cat "$PIDFILE")" >"$ENVFILE"
  lap "total start" "$t0"
  trap - EXIT
  cat "$ENVFILE" >&3
}

cmd_env() {
  if ! { [ -f "$PIDFILE" ] && is_our_server "$(cat "$PIDFILE")" && [ -f "$ENVFILE" ]; }; then
    die "not running"
  fi
  cat "$ENVFILE" >&3
}

case "${1:-}" in
  start) cmd_start ;;
  stop) stop_server ;;
  env) cmd_env ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 2 ;;
esac
