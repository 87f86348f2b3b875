# A throwaway PostgreSQL cluster for the tests: initdb into a temporary directory (as the
# `postgres` system user when run as root: the server refuses to run as root), a unix socket
# there and a loopback port, a default TimeZone other than UTC (housekeep must not depend on
# it), stopped and removed on exit, even on failure. Sourced, not run.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# as_pg COMMAND...: runs it as the cluster's owner.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

stop_test_postgres() {
  if [ -n "${PG_TEST_DIR:-}" ] && [ -d "$PG_TEST_DIR" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_TEST_DIR"
  fi
}

# start_test_postgres: starts the cluster and exports HOUSEKEEP_TEST_PG_HOST (the socket
# directory) and HOUSEKEEP_TEST_PG_PORT; superuser `postgres`, trust authentication.
start_test_postgres() {
  PG_TEST_DIR=$(mktemp -d /tmp/housekeep-pg-XXXXXX)
  trap stop_test_postgres EXIT
  chmod 755 "$PG_TEST_DIR"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$PG_TEST_DIR"
  fi
  as_pg "$PG_BIN/initdb" -D "$PG_TEST_DIR/data" -U postgres --auth=trust -E UTF8 --no-sync >"$PG_TEST_DIR/initdb.log" 2>&1 ||
    { cat "$PG_TEST_DIR/initdb.log" >&2; return 1; }
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_pg "$PG_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w \
    -o "-k $PG_TEST_DIR -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c timezone=America/New_York -c max_connections=200" \
    start >/dev/null || { cat "$PG_TEST_DIR/server.log" >&2; return 1; }
  export HOUSEKEEP_TEST_PG_HOST=$PG_TEST_DIR HOUSEKEEP_TEST_PG_PORT=$port
  echo "test PostgreSQL server on $PG_TEST_DIR port $port" >&2
}
