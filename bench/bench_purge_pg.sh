#!/usr/bin/env bash
# Purge throughput and gentleness on PostgreSQL, side by side on identical copies of one
# database (CREATE DATABASE ... TEMPLATE of the demo's data):
#   hk     housekeep run --task all at default settings
#   hk0    the same with --sleep 0
#   sql    the same deletions as plain SQL in one transaction through psql (the floor)
#   django the same deletions through Django's ORM (bench/peer/purge.py), when python3-django
#          and python3-psycopg2 are installed
# For each: wall time, WAL bytes written (pg_current_wal_lsn() before and after), peak RSS
# (housekeep's or Django's own; the floor's work is the server's), the longest write transaction
# (housekeep's -v log), the worst latency and failures of a concurrent writer inserting
# one row every 10 ms throughout, and the worst replay lag of a streaming standby
# (pg_stat_replication.replay_lag, sampled every 100 ms) when there is one.
#
#   bench/bench_purge_pg.sh build/release/commands/housekeep [ROWS...]   (default 1000000)
# LAYOUTS="time shuffled interleaved" picks the shapes of data (demo --layout; default time).
# PEER_TIMEOUT=SECONDS (default 900) cancels each of Django's statements that runs longer
# (at 5 million messages its orphan delete did not finish in 14.5 minutes).
# ROUNDS=N repeats every measurement N times, rotating which goes first. The server is the
# one HOUSEKEEP_TEST_PG_HOST/PORT name, or a throwaway cluster started here with a standby
# (scripts/lib/postgres.sh; STANDBY=0: none). Writes the table to stdout and
# bench/results-purge-pg.txt.
set -euo pipefail
HK=$(realpath "${1:?usage: bench_purge_pg.sh /path/to/housekeep [ROWS...]}")
shift
SIZES=("$@")
[ $# -eq 0 ] && SIZES=(1000000)
ROUNDS=${ROUNDS:-1}
read -r -a LAYOUT_LIST <<<"${LAYOUTS:-time}"
HERE=$(cd "$(dirname "$0")" && pwd)
WHO_LIST=(hk hk0 sql django)
if ! /usr/bin/python3 -c 'import django, psycopg2' 2>/dev/null; then
  WHO_LIST=(hk hk0 sql)
  echo "python3-django or python3-psycopg2 is not installed: no django column" >&2
fi
OUT=$HERE/results-purge-pg.txt
WORK=$(mktemp -d)
chmod 755 "$WORK"
trap 'touch "$WORK/stop"; wait; rm -rf "$WORK"' EXIT
if [ -z "${HOUSEKEEP_TEST_PG_HOST:-}" ]; then
  # shellcheck source=../scripts/lib/postgres.sh
  . "$HERE/../scripts/lib/postgres.sh"
  start_test_postgres
  trap 'touch "$WORK/stop"; wait; rm -rf "$WORK"; stop_test_postgres' EXIT
  if [ "${STANDBY:-1}" != 0 ]; then
    start_test_standby
  fi
fi
ADMIN="host=$HOUSEKEEP_TEST_PG_HOST port=$HOUSEKEEP_TEST_PG_PORT user=postgres"
url() { echo "postgresql://postgres@/$1?host=$HOUSEKEEP_TEST_PG_HOST&port=$HOUSEKEEP_TEST_PG_PORT"; }
psql_on() { PGOPTIONS="-c client_min_messages=warning" psql "$ADMIN dbname=$1" -qAtX -v ON_ERROR_STOP=1 -c "$2"; }

# The deletions `run --task all` makes with the built-in policy, as one transaction.
floor_sql() {
  cat <<'SQL'
BEGIN;
DELETE FROM messages WHERE conversation_id IN (SELECT id FROM conversations WHERE created_at < now() - interval '30 days');
DELETE FROM conversations WHERE created_at < now() - interval '30 days';
DELETE FROM messages m WHERE conversation_id IS NULL OR NOT EXISTS (SELECT 1 FROM conversations c WHERE c.id = m.conversation_id);
DELETE FROM messages WHERE conversation_id IN (SELECT c.id FROM conversations c JOIN users u ON u.id = c.user_id WHERE NOT u.is_active AND u.date_joined < now() - interval '7 days');
DELETE FROM conversations WHERE user_id IN (SELECT id FROM users WHERE NOT is_active AND date_joined < now() - interval '7 days');
DELETE FROM users WHERE NOT is_active AND date_joined < now() - interval '7 days';
COMMIT;
SQL
}

# writer DB STOPFILE: inserts a row every 10 ms until STOPFILE exists; prints the worst
# latency in ms, the number of failed inserts and the worst standby replay lag in ms seen
# every 10th insert ("-" without a standby).
writer() {
  /usr/bin/python3 - "$ADMIN dbname=$1" "$2" <<'PY'
import os, sys, time
import psycopg2
con = psycopg2.connect(sys.argv[1])
con.autocommit = True
cur = con.cursor()
cur.execute("SELECT coalesce(max(id), 0) FROM messages")
next_id = cur.fetchone()[0] + 10_000_000
worst, failed, lag, n = 0.0, 0, None, 0
while not os.path.exists(sys.argv[2]):
    n += 1
    if n % 10 == 0:
        cur.execute("SELECT extract(epoch FROM max(replay_lag)) * 1000, count(*) FROM pg_stat_replication")
        ms, standbys = cur.fetchone()
        if standbys:
            lag = max(lag or 0.0, float(ms or 0))
    t = time.monotonic()
    try:
        next_id += 1
        cur.execute("INSERT INTO messages (id, conversation_id, role, content, created_at) VALUES (%s, NULL, 'w', 'x', now())", (next_id,))
    except psycopg2.Error:
        failed += 1
    worst = max(worst, (time.monotonic() - t) * 1000)
    time.sleep(0.01)
print(f"{worst:.0f} {failed} {'-' if lag is None else f'{lag:.0f}'}")
PY
}

wal_lsn() { psql_on postgres "SELECT pg_current_wal_lsn()"; }

# measure NAME COMMAND...: wall seconds, peak RSS kB, WAL bytes, writer worst ms and failures.
measure() {
  local name=$1
  shift
  rm -f "$WORK/stop"
  writer "$name" "$WORK/stop" >"$WORK/writer.$name" &
  local wpid=$!
  sleep 0.3
  local before rc=0
  before=$(wal_lsn)
  /usr/bin/time -f "%e %M" -o "$WORK/time.$name" "$@" >/dev/null 2>"$WORK/log.$name" || rc=$?
  psql_on postgres "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$before')" >"$WORK/wal.$name"
  touch "$WORK/stop"
  wait "$wpid"
  if [ "$rc" -ne 0 ]; then
    echo "$name exited $rc: $(tail -3 "$WORK/log.$name")" >&2
  fi
}

printf '%-9s %-12s %-7s %8s %8s %10s %10s %12s %9s %12s\n' ROWS LAYOUT WHO WALL_S RSS_KB WAL_MB LONGEST_TX \
  WRITER_WORST W_FAILED STANDBY_LAG | tee "$OUT"
for rows in "${SIZES[@]}"; do
 for layout in "${LAYOUT_LIST[@]}"; do
  psql_on postgres "DROP DATABASE IF EXISTS bench_base" >/dev/null
  psql_on postgres "CREATE DATABASE bench_base" >/dev/null
  "$HK" --db "$(url bench_base)" demo --rows "$rows" --layout "$layout" -q
  for round in $(seq 1 "$ROUNDS"); do
    # Rotate who goes first, so that no contender always meets a cold or a warm cache.
    whos=("${WHO_LIST[@]}")
    for ((r = 1; r < round; r++)); do whos=("${whos[@]:1}" "${whos[0]}"); done
    for who in "${whos[@]}"; do
      psql_on postgres "DROP DATABASE IF EXISTS $who" >/dev/null
      psql_on postgres "CREATE DATABASE $who TEMPLATE bench_base" >/dev/null
    done
    psql_on postgres "CHECKPOINT" >/dev/null
    for who in "${whos[@]}"; do
      case $who in
      hk) measure hk "$HK" --db "$(url hk)" -v run --task all ;;
      hk0) measure hk0 "$HK" --db "$(url hk0)" -v run --task all --sleep 0 ;;
      sql) measure sql sh -c "$(declare -f floor_sql); floor_sql | psql '$ADMIN dbname=sql' -qAtX -v ON_ERROR_STOP=1" ;;
      django) measure django env PGOPTIONS="-c statement_timeout=${PEER_TIMEOUT:-900}s" /usr/bin/python3 "$HERE/peer/purge.py" postgresql django "$HOUSEKEEP_TEST_PG_HOST" "$HOUSEKEEP_TEST_PG_PORT" postgres ;;
      esac
    done
    for who in "${whos[@]}"; do
      longest="(all)"
      rss_kb="-"
      read -r wall rss <"$WORK/time.$who"
      if [ "$who" = hk ] || [ "$who" = hk0 ]; then
        longest=$(sed -nE 's/.*write transaction held ([0-9.]+)(ms|s).*/\1 \2/p' "$WORK/log.$who" |
          awk '{ v = ($2 == "s") ? $1 * 1000 : $1; if (v > m) m = v } END { printf "%.0fms", m }')
      fi
      [ "$who" = sql ] || rss_kb=$rss # the floor's work is the server's
      wal_mb=$(awk '{ printf "%.1f", $1 / 1048576 }' "$WORK/wal.$who")
      read -r worst failed lag <"$WORK/writer.$who"
      printf '%-9s %-12s %-7s %8s %8s %10s %10s %12s %9s %12s\n' "$rows" "$layout" "$who" "$wall" "$rss_kb" "$wal_mb" \
        "$longest" "${worst}ms" "$failed" "${lag}ms" | tee -a "$OUT"
    done
    # All must have deleted the same rows, give or take rows that aged past a cutoff between
    # the runs (each computes "now" itself).
    for table in users conversations "messages WHERE role <> 'w'"; do
      b=$(psql_on sql "SELECT count(*) FROM $table")
      for who in "${whos[@]}"; do
        a=$(psql_on "$who" "SELECT count(*) FROM $table")
        [ "$a" = "$b" ] || echo "warning: $table differs: $who $a, sql $b" | tee -a "$OUT"
      done
    done
  done
 done
done
