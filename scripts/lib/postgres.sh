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
  if [ -n "${PG_TEST_DIR:-}" ] && [ -f "$PG_TEST_DIR/pgbouncer.pid" ]; then
    kill "$(cat "$PG_TEST_DIR/pgbouncer.pid")" 2>/dev/null || true
  fi
  if [ -n "${PG_TEST_DIR:-}" ] && [ -d "$PG_TEST_DIR/standby" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_TEST_DIR/standby" -m immediate stop >/dev/null 2>&1 || true
  fi
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
  start_test_pgbouncer
}

# start_test_pgbouncer: PgBouncer in transaction pooling mode in front of the cluster (the
# mode that breaks session state and advisory locks); exports HOUSEKEEP_TEST_PGBOUNCER_PORT.
start_test_pgbouncer() {
  command -v pgbouncer >/dev/null || return 0
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat >"$PG_TEST_DIR/pgbouncer.ini" <<INI
[databases]
* = host=$PG_TEST_DIR port=$HOUSEKEEP_TEST_PG_PORT
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $PG_TEST_DIR/pgbouncer.users
pool_mode = transaction
max_client_conn = 200
default_pool_size = 4
logfile = $PG_TEST_DIR/pgbouncer.log
pidfile = $PG_TEST_DIR/pgbouncer.pid
INI
  echo '"postgres" ""' >"$PG_TEST_DIR/pgbouncer.users"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$PG_TEST_DIR/pgbouncer.ini" "$PG_TEST_DIR/pgbouncer.users"
  fi
  as_pg pgbouncer -d "$PG_TEST_DIR/pgbouncer.ini" || { cat "$PG_TEST_DIR/pgbouncer.log" >&2; return 1; }
  export HOUSEKEEP_TEST_PGBOUNCER_PORT=$port
  echo "test PgBouncer (transaction pooling) on port $port" >&2
}

# start_test_standby: a streaming standby of the cluster (pg_basebackup -R) on a port of its
# own, named hk_standby in pg_stat_replication; exports HOUSEKEEP_TEST_PG_STANDBY_PORT.
# Stopped with the cluster.
start_test_standby() {
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_pg "$PG_BIN/pg_basebackup" -h "$PG_TEST_DIR" -p "$HOUSEKEEP_TEST_PG_PORT" -U postgres -D "$PG_TEST_DIR/standby" \
    -R -X stream --create-slot --slot=hk_standby --checkpoint=fast --no-sync >"$PG_TEST_DIR/basebackup.log" 2>&1 ||
    { cat "$PG_TEST_DIR/basebackup.log" >&2; return 1; }
  as_pg "$PG_BIN/pg_ctl" -D "$PG_TEST_DIR/standby" -l "$PG_TEST_DIR/standby.log" -w \
    -o "-k $PG_TEST_DIR -p $port -c listen_addresses=127.0.0.1 -c cluster_name=hk_standby -c hot_standby=on -c max_connections=200" \
    start >/dev/null || { cat "$PG_TEST_DIR/standby.log" >&2; return 1; }
  export HOUSEKEEP_TEST_PG_STANDBY_PORT=$port
  echo "test PostgreSQL standby on port $port" >&2
}
