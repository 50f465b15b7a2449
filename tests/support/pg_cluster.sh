#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests: `start DIR` makes one in DIR (unix socket only,
# no TCP port, trust authentication on the socket in DIR, C locale) and prints its URL;
# `start-tls DIR PORT CERT KEY PASSWORD_FILE` makes one reachable only over TLS with a password
# (tests/postgres_tls.rs); `stop DIR` stops either (immediately) and removes DIR. Run as root,
# the server runs as the `postgres` user the Debian package creates (initdb refuses root).
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
  start-tls)
    # `start-tls DIR PORT CERT KEY PASSWORD_FILE`: a cluster reachable only over TLS on
    # 127.0.0.1:PORT with a password (scram-sha-256) for the `postgres` user; no socket login.
    port=${3:?port}; cert=${4:?cert}; key=${5:?key}; pwfile=${6:?password file}
    if [ -d "$dir/data" ]; then as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    mkdir -p "$dir"
    cp "$cert" "$dir/server.crt"; cp "$key" "$dir/server.key"; cp "$pwfile" "$dir/pw"
    chmod 600 "$dir/server.key" "$dir/pw"
    [ "$(id -u)" -ne 0 ] || chown -R postgres: "$dir"
    as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=scram-sha-256 --pwfile="$dir/pw" \
      --encoding=UTF8 --locale=C >/dev/null
    echo "hostssl all all 127.0.0.1/32 scram-sha-256" > "$dir/data/pg_hba.conf"
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
      "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir' -c ssl=on -c ssl_cert_file='$dir/server.crt' -c ssl_key_file='$dir/server.key'" \
      start >/dev/null
    ;;
  stop)
    if [ -d "$dir/data" ]; then as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null || true; fi
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|start-tls|stop DIR [PORT CERT KEY PASSWORD_FILE]" >&2; exit 2 ;;
esac
