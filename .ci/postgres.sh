#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, on 127.0.0.1 and a free port.
#
#   . .ci/postgres.sh          (from .ci/run) install the server if missing
#                              (root: apt-get), start it, export
#                              SESSIONKIT_TEST_POSTGRES_DSN, stop it on exit
#   bash .ci/postgres.sh start DIR   start a server in DIR (new, empty), print its DSN
#   bash .ci/postgres.sh stop DIR    stop the server started in DIR
#   bash .ci/postgres.sh restart DIR stop it at once (-m immediate) and start it again
#
# The server runs as the `postgres` user when run as root (initdb refuses
# root), else as the caller. Tests connect as the role `sessionkit`, which is
# neither a superuser nor allowed to bypass row-level security, and owns the
# database `sessionkit`. Durability settings are off: the data is thrown away.

sk_pg_bindir() {
  # The folder of initdb, pg_ctl and psql: Debian's newest, else the PATH's.
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$found" ] && [ -x "$found/initdb" ] && [ -x "$found/pg_ctl" ] && [ -x "$found/psql" ]; then
    echo "$found"
    return 0
  fi
  found=$(command -v initdb 2>/dev/null) || return 1
  found=$(dirname "$(readlink -f "$found")")
  [ -x "$found/pg_ctl" ] && [ -x "$found/psql" ] && echo "$found"
}

sk_pg_as() {
  # Run a command as the server's user.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

sk_pg_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

sk_pg_start() {
  # Start a server in the new folder $1 and print the DSN of its test database.
  local dir=$1 bin port
  bin=$(sk_pg_bindir) || { echo "PostgreSQL (initdb, pg_ctl) is not installed" >&2; return 1; }
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; chmod 0755 "$(dirname "$dir")" 2>/dev/null || true; fi
  sk_pg_as "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  for _ in 1 2 3 4 5; do
    port=$(sk_pg_free_port)
    if sk_pg_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null 2>&1; then
      echo "$port" >"$dir/port"
      break
    fi
    port=""
  done
  if [ -z "$port" ]; then cat "$dir/server.log" >&2; return 1; fi
  "$bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE sessionkit LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE" \
    -c "CREATE DATABASE sessionkit OWNER sessionkit" >&2 || return 1
  echo "postgresql://sessionkit@127.0.0.1:$port/sessionkit"
}

sk_pg_stop() {
  local dir=$1 bin
  bin=$(sk_pg_bindir) || return 0
  if [ -f "$dir/data/postmaster.pid" ]; then
    sk_pg_as "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

sk_pg_restart() {
  # Stop the server in $1 at once (as a crash would) and start it again.
  local dir=$1 bin
  bin=$(sk_pg_bindir) || return 1
  sk_pg_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m immediate -w -t 60 restart >/dev/null 2>&1
}

sk_pg_ci() {
  # From .ci/run: a server for the whole run, stopped when the run exits.
  if ! sk_pg_bindir >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
      echo "== installing PostgreSQL (apt-get)"
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
      # The package starts a cluster of its own on port 5432: the tests do not use it.
    else
      echo "PostgreSQL is not installed and this is not root: cannot install it" >&2
      return 1
    fi
  fi
  SK_PG_DIR=$(mktemp -d /tmp/sessionkit-pg.XXXXXX)
  local previous
  previous=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
  # shellcheck disable=SC2064
  trap "sk_pg_stop '$SK_PG_DIR/server'; rm -rf '$SK_PG_DIR'; ${previous:-true}" EXIT
  SESSIONKIT_TEST_POSTGRES_DSN=$(sk_pg_start "$SK_PG_DIR/server") || { echo "PostgreSQL did not start" >&2; return 1; }
  export SESSIONKIT_TEST_POSTGRES_DSN # shared by the tests (pytest -n 2); the restart test starts a server of its own
  echo "== PostgreSQL for the tests: $SESSIONKIT_TEST_POSTGRES_DSN"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    start) sk_pg_start "$2" ;;
    stop) sk_pg_stop "$2" ;;
    restart) sk_pg_restart "$2" ;;
    *) echo "usage: $0 start DIR | stop DIR | restart DIR (or source it from .ci/run)" >&2; exit 2 ;;
  esac
else
  sk_pg_ci
fi
