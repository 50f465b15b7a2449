#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests: `start DIR` makes one in DIR (unix socket only,
# no TCP port, trust authentication on the socket in DIR, C locale) and prints its URL;
# `stop DIR` stops it (immediately) and removes DIR. Run as root, the server runs as the
# `postgres` user the Debian package creates (initdb refuses root).
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?cluster folder}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$bin" ] || bin=$(dirname "$(command -v initdb)")
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$cmd" in
  start)
    if [ -d "$dir/data" ]; then as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
    as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C >/dev/null
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
      "-c listen_addresses='' -c unix_socket_directories='$dir' -c max_connections=400 -c fsync=on -c synchronous_commit=on -c max_wal_size=128MB -c min_wal_size=32MB" \
      start >/dev/null
    echo "postgres://postgres@localhost/postgres?host=$dir"
    ;;
  stop)
    if [ -d "$dir/data" ]; then as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null || true; fi
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
