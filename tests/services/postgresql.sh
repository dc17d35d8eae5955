#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for tests, in a directory the caller owns.
#
#   postgresql.sh start DIR   initdb in DIR/data, start on a free loopback TCP port with its
#                             unix socket in DIR; prints the base URI on stdout, e.g.
#                             postgresql://postgres@127.0.0.1:54321 (append /DBNAME; the
#                             database "postgres" exists). Logs go to DIR/postgresql.log.
#   postgresql.sh stop DIR    fast shutdown of the server started in DIR (no error if none).
#
# Trust authentication on loopback only, fsync and synchronous commit off: fast, never for
# data that matters. PostgreSQL refuses to run as root, so as root the server runs as the
# `postgres` system user (Debian's postgresql-15 package creates it) and DIR is handed to it;
# every directory above DIR must let that user through (/tmp does).
# Server binaries: $PG_BIN, else /usr/lib/postgresql/15/bin.
set -euo pipefail

pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
(($# == 2)) || usage
cmd=$1
dir=$(cd "$2" && pwd)

# Runs a server binary as the user that owns the cluster.
as_owner() {
  if ((EUID == 0)); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  if ((EUID == 0)); then
    chown -R postgres: "$dir"
    if ! runuser -u postgres -- test -w "$dir"; then
      echo "postgresql.sh: user postgres cannot reach $dir (a parent directory is closed)" >&2
      exit 1
    fi
  fi
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    as_owner "$pg_bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C \
      --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 32MB
CONF
  fi
  # A free port can be taken between the probe and the bind: try a few.
  local attempt port
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if as_owner "$pg_bin/pg_ctl" start -w -t 60 -D "$dir/data" -l "$dir/postgresql.log" \
      -o "-p $port" >/dev/null; then
      echo "$port" >"$dir/port"
      echo "postgresql://postgres@127.0.0.1:$port"
      return 0
    fi
  done
  echo "postgresql.sh: the server in $dir did not start; its log:" >&2
  tail -n 30 "$dir/postgresql.log" >&2 || true
  exit 1
}

stop() {
  [[ -f "$dir/data/postmaster.pid" ]] || return 0
  as_owner "$pg_bin/pg_ctl" stop -w -t 60 -m fast -D "$dir/data" >/dev/null
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
