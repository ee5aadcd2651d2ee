#!/usr/bin/env bash
# Makes sure the tests have a PostgreSQL, a Redis and a Chromium, and writes the servers'
# addresses to .services/env for `make test`.
#
# Order: DATABASE_URL / REDIS_URL when set; otherwise the local servers on their
# standard ports; otherwise (or with WESAID_OWN_SERVICES=1) install them with apt-get
# and start throwaway servers on loopback, on their own ports and directories.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .services
out=.services/env
PG_PORT=55432
REDIS_PORT=56379

pg_ok() { python3 - "$1" <<'PY'
import socket, sys
from urllib.parse import urlsplit
u = urlsplit(sys.argv[1].replace("postgresql+psycopg", "postgresql"))
s = socket.socket(); s.settimeout(2)
try:
    s.connect((u.hostname or "127.0.0.1", u.port or 5432))
except OSError:
    sys.exit(1)
PY
}
redis_ok() { python3 - "$1" <<'PY'
import socket, sys
from urllib.parse import urlsplit
u = urlsplit(sys.argv[1])
s = socket.socket(); s.settimeout(2)
try:
    s.connect((u.hostname or "127.0.0.1", u.port or 6379)); s.sendall(b"PING\r\n")
    sys.exit(0 if s.recv(16).startswith(b"+PONG") else 1)
except OSError:
    sys.exit(1)
PY
}

apt_install() {
  if ! dpkg -s "$@" >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "$@" >/dev/null
  fi
}

start_own_postgres() {
  apt_install postgresql
  local bin; bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  local dir=/tmp/wesaid-pg
  if ! pg_ok "postgresql://postgres@127.0.0.1:${PG_PORT}/postgres"; then
    rm -rf "$dir"; mkdir -p "$dir"; chown postgres "$dir"
    runuser -u postgres -- "$bin/initdb" -D "$dir/data" -U postgres --auth=trust >/dev/null
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-p ${PG_PORT} -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  fi
  echo "postgresql+psycopg://postgres@127.0.0.1:${PG_PORT}/wesaid_test"
}

start_own_redis() {
  apt_install redis-server
  if ! redis_ok "redis://127.0.0.1:${REDIS_PORT}/0"; then
    redis-server --port "${REDIS_PORT}" --bind 127.0.0.1 --save "" --appendonly no \
      --daemonize yes --logfile /tmp/wesaid-redis.log >/dev/null
    sleep 0.5
  fi
  echo "redis://127.0.0.1:${REDIS_PORT}/15"
}

own="${WESAID_OWN_SERVICES:-0}"
if [ "$own" != 1 ] && [ -n "${DATABASE_URL:-}" ] && pg_ok "$DATABASE_URL"; then
  db=$(python3 -c "import sys; from urllib.parse import urlsplit, urlunsplit; u=urlsplit(sys.argv[1]); print(urlunsplit(u._replace(scheme='postgresql+psycopg', path='/wesaid_test')))" "$DATABASE_URL")
elif [ "$own" != 1 ] && pg_ok "postgresql://postgres@127.0.0.1:5432/postgres"; then
  db="postgresql+psycopg://postgres@127.0.0.1:5432/wesaid_test"
else
  db=$(start_own_postgres)
fi
if [ "$own" != 1 ] && [ -n "${REDIS_URL:-}" ] && redis_ok "$REDIS_URL"; then
  redis=$(python3 -c "import sys; from urllib.parse import urlsplit, urlunsplit; u=urlsplit(sys.argv[1]); print(urlunsplit(u._replace(path='/15')))" "$REDIS_URL")
elif [ "$own" != 1 ] && redis_ok "redis://127.0.0.1:6379/0"; then
  redis="redis://127.0.0.1:6379/15"
else
  redis=$(start_own_redis)
fi
# The browser tests drive Debian's Chromium (never a downloaded browser); the board
# report's PDF needs Pango and fonts for every script patients write in.
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi
apt_install fonts-noto-core fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0
printf 'export TEST_DATABASE_URL=%q\nexport TEST_REDIS_URL=%q\n' "$db" "$redis" > "$out"
echo "tests use PostgreSQL at ${db%%@*}@… and Redis at $redis" >&2
