#!/usr/bin/env bash
# A local PostgreSQL server for nubo: installs the Debian package when missing,
# creates a data directory of its own (no systemd, no Debian cluster needed),
# starts the server on 127.0.0.1 only, creates nubo's role and database, and
# prints the database URL to use (the only line on stdout; logs go to stderr):
#
#   nubo serve --database-url "$(bash scripts/postgres.sh)"
#
# Idempotent and quick when the server is already up. `postgres.sh stop` stops it.
# Settings (environment): NUBO_PG_DATA (data directory), NUBO_PG_PORT (5439),
# NUBO_PG_USER / NUBO_PG_PASSWORD / NUBO_PG_DATABASE (nubo / nubo / nubo),
# NUBO_PG_FAST=1 trades durability for speed (fsync off; for test servers only).
set -euo pipefail

log() { printf '[postgres] %s\n' "$*" >&2; }
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ "$(id -u)" -eq 0 ]; then
  DATA="${NUBO_PG_DATA:-/var/lib/nubo/postgres}"
else
  DATA="${NUBO_PG_DATA:-$HOME/.local/share/nubo/postgres}"
fi
PORT="${NUBO_PG_PORT:-5439}"
USER_NAME="${NUBO_PG_USER:-nubo}"
PASSWORD="${NUBO_PG_PASSWORD:-nubo}"
DATABASE="${NUBO_PG_DATABASE:-nubo}"

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

# 1. the server binaries
if [ -z "$(pg_bin)" ]; then
  log "installing the Debian postgresql package"
  $SUDO apt-get update -qq
  # the package's own cluster may or may not start here; nubo's server does not use it
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    postgresql >/dev/null
fi
BIN="$(pg_bin)"
[ -x "$BIN/pg_ctl" ] || { log "no PostgreSQL server binaries under /usr/lib/postgresql"; exit 1; }

# initdb and the server refuse to run as root: as root they run as the postgres user
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

mkdir -p "$(dirname "$DATA")"
# two callers at once (two test runs) must not both initialise or start the server
exec 9>"$DATA.lock"
flock 9

if [ "${1:-}" = "stop" ]; then
  if [ -f "$DATA/PG_VERSION" ] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2
  fi
  exit 0
fi

# 2. the data directory
if [ ! -f "$DATA/PG_VERSION" ]; then
  log "initialising $DATA"
  if [ "$(id -u)" -eq 0 ]; then
    install -d -o postgres -g postgres -m 700 "$DATA"
  else
    install -d -m 700 "$DATA"
  fi
  # UTF8 whatever the machine's locale (JSONB needs it); C collation sorts like SQLite
  as_owner "$BIN/initdb" -D "$DATA" --encoding=UTF8 --no-locale \
    --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  echo "include_if_exists = 'nubo.conf'" | as_owner tee -a "$DATA/postgresql.conf" >/dev/null
fi

# 3. settings nubo relies on, rewritten every time so the environment above wins
conf="listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DATA'
max_connections = 200"
if [ "${NUBO_PG_FAST:-0}" = "1" ]; then
  conf="$conf
fsync = off
synchronous_commit = off
full_page_writes = off"
fi
printf '%s\n' "$conf" | as_owner tee "$DATA/nubo.conf" >/dev/null

# 4. the server (started without the lock's descriptor, or it would hold the lock)
running_port() { sed -n 4p "$DATA/postmaster.pid" 2>/dev/null || true; }
if as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  if [ "$(running_port)" != "$PORT" ]; then
    log "restarting on port $PORT"
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -m fast -w -t 60 restart >/dev/null 9>&-
  else
    # picks up changed settings that need no restart (fsync, synchronous_commit)
    as_owner "$BIN/pg_ctl" -D "$DATA" reload >/dev/null
  fi
else
  log "starting the server on 127.0.0.1:$PORT"
  as_owner "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 start >/dev/null 9>&- \
    || { log "the server did not start; see $DATA/server.log"; tail -n 20 "$DATA/server.log" >&2; exit 1; }
fi

# 5. nubo's role (it may create databases: tests give each test its own) and database
as_owner "$BIN/psql" -X -q -h "$DATA" -p "$PORT" -d postgres -v ON_ERROR_STOP=1 \
  -v user="$USER_NAME" -v password="$PASSWORD" -v database="$DATABASE" >/dev/null <<'SQL'
SELECT format('CREATE ROLE %I', :'user')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('ALTER ROLE %I LOGIN CREATEDB PASSWORD %L', :'user', :'password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'user')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \gexec
SQL

log "ready: database $DATABASE of role $USER_NAME on 127.0.0.1:$PORT"
printf 'postgresql://%s:%s@127.0.0.1:%s/%s\n' "$USER_NAME" "$PASSWORD" "$PORT" "$DATABASE"
