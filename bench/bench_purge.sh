#!/usr/bin/env bash
# Purge throughput and gentleness, side by side on identical copies of one database, for
# every shape of data (demo --layout time, shuffled, interleaved):
#   hk      housekeep run --task all at default settings
#   hk0     the same with --sleep 0
#   sql     the same deletions as plain SQL in one transaction through the sqlite3 shell (the
#           floor, at sqlite3's defaults)
#   django  the same deletions through Django's ORM (bench/peer/purge.py: QuerySet.delete()),
#           when python3-django is installed
# For each: wall time, CPU (user + system), peak RSS, and the worst latency of a concurrent
# writer inserting one row every 10 ms during the purge; for housekeep also its longest write
# transaction. Every round runs each contender once, in an order that rotates each round.
#
#   bench/bench_purge.sh build/release/commands/housekeep [ROWS...]   (default 100000 1000000 5000000)
# LAYOUTS="time shuffled" picks shapes (default all three); ROUNDS=N repeats each size and
# shape; WHO="hk sql" picks contenders; HK_ARGS adds options to housekeep's runs;
# HK_OLD=/path/to/an/older/housekeep adds it at defaults (row "hk_old"). WRITER=0 runs
# without the concurrent writer (housekeep's batches then grow once nobody else writes).
# Writes the table to stdout and to bench/results-purge.txt.
set -euo pipefail
HK=$(realpath "${1:?usage: bench_purge.sh /path/to/housekeep [ROWS...]}")
shift
SIZES=("$@")
[ $# -eq 0 ] && SIZES=(100000 1000000 5000000)
read -r -a EXTRA <<<"${HK_ARGS:-}"
OLD=${HK_OLD:+$(realpath "$HK_OLD")}
ROUNDS=${ROUNDS:-1}
read -r -a LAYOUT_LIST <<<"${LAYOUTS:-time shuffled interleaved}"
BENCH=$(cd "$(dirname "$0")" && pwd)
OUT=$BENCH/results-purge.txt
read -r -a WHO_LIST <<<"${WHO:-hk hk0 sql django}"
if ! /usr/bin/python3 -c 'import django' 2>/dev/null; then
  WHO_LIST=("${WHO_LIST[@]/django/}")
  echo "python3-django is not installed: no django column" >&2
fi
[ -n "$OLD" ] && WHO_LIST+=(hk_old)
WORK=$(mktemp -d)
trap 'touch "$WORK/stop"; wait; rm -rf "$WORK"' EXIT

# The deletions `run --task all` makes with the built-in policy, as one transaction.
floor_sql() {
  cat <<SQL
.timeout 10000
BEGIN;
DELETE FROM messages WHERE conversation_id IN (SELECT id FROM conversations WHERE created_at < datetime('now', '-30 days'));
DELETE FROM conversations WHERE created_at < datetime('now', '-30 days');
DELETE FROM messages WHERE conversation_id IS NULL OR conversation_id NOT IN (SELECT id FROM conversations);
DELETE FROM messages WHERE conversation_id IN (SELECT c.id FROM conversations c JOIN users u ON u.id = c.user_id WHERE u.is_active = 0 AND u.date_joined < datetime('now', '-7 days'));
DELETE FROM conversations WHERE user_id IN (SELECT id FROM users WHERE is_active = 0 AND date_joined < datetime('now', '-7 days'));
DELETE FROM users WHERE is_active = 0 AND date_joined < datetime('now', '-7 days');
COMMIT;
SQL
}

# writer DB STOPFILE: inserts a row every 10 ms until STOPFILE exists; prints the worst
# latency in ms and the number of failed inserts.
writer() {
  python3 - "$1" "$2" <<'PY'
import os, sqlite3, sys, time
db, stop = sys.argv[1], sys.argv[2]
con = sqlite3.connect(db, timeout=10, isolation_level=None)
worst, failed = 0.0, 0
while not os.path.exists(stop):
    t = time.monotonic()
    try:
        con.execute("INSERT INTO messages (conversation_id, role, content, created_at) VALUES (NULL, 'w', 'x', datetime('now'))")
    except sqlite3.Error:
        failed += 1
    worst = max(worst, (time.monotonic() - t) * 1000)
    time.sleep(0.01)
print(f"{worst:.0f} {failed}")
PY
}

# measure NAME DB COMMAND...: wall seconds, peak RSS kB, CPU seconds, writer worst ms and
# failures.
measure() {
  local name=$1 db=$2
  shift 2
  rm -f "$WORK/stop"
  local wpid=
  if [ "${WRITER:-1}" = 1 ]; then
    writer "$db" "$WORK/stop" >"$WORK/writer.$name" &
    wpid=$!
    sleep 0.3
  else
    echo "- -" >"$WORK/writer.$name"
  fi
  local rc=0
  /usr/bin/time -f "%e %M %U %S" -o "$WORK/time.$name" "$@" >/dev/null 2>"$WORK/log.$name" || rc=$?
  touch "$WORK/stop"
  [ -z "$wpid" ] || wait "$wpid"
  if [ "$rc" -ne 0 ]; then
    echo "$name exited $rc: $(tail -3 "$WORK/log.$name")" >&2
  fi
}

printf '%-9s %-12s %-7s %8s %7s %8s %10s %12s %9s\n' ROWS LAYOUT WHO WALL_S CPU_S RSS_KB LONGEST_TX WRITER_WORST W_FAILED |
  tee "$OUT"
for rows in "${SIZES[@]}"; do
  for layout in "${LAYOUT_LIST[@]}"; do
    "$HK" --db "$WORK/base.db" demo --rows "$rows" --layout "$layout" --force -q
    for round in $(seq 1 "$ROUNDS"); do
      # Rotate who goes first, so that no contender always meets a cold or a warm cache.
      whos=()
      for who in "${WHO_LIST[@]}"; do [ -n "$who" ] && whos+=("$who"); done
      for ((r = 1; r < round; r++)); do whos=("${whos[@]:1}" "${whos[0]}"); done
      for who in "${whos[@]}"; do
        cp "$WORK/base.db" "$WORK/$who.db"
      done
      # Otherwise the first commit's fsync would also write back the copies just made.
      sync
      for who in "${whos[@]}"; do
        case $who in
        hk) measure hk "$WORK/hk.db" "$HK" --db "$WORK/hk.db" -v run --task all "${EXTRA[@]}" ;;
        hk0) measure hk0 "$WORK/hk0.db" "$HK" --db "$WORK/hk0.db" -v run --task all --sleep 0 "${EXTRA[@]}" ;;
        hk_old) measure hk_old "$WORK/hk_old.db" "$OLD" --db "$WORK/hk_old.db" -v run --task all "${EXTRA[@]}" ;;
        sql) measure sql "$WORK/sql.db" sh -c "$(declare -f floor_sql); floor_sql | sqlite3 '$WORK/sql.db'" ;;
        django) measure django "$WORK/django.db" /usr/bin/python3 "$BENCH/peer/purge.py" sqlite3 "$WORK/django.db" ;;
        esac
      done
      for who in "${whos[@]}"; do
        longest="(all)"
        case $who in
        hk*)
          longest=$(sed -nE 's/.*write transaction held ([0-9.]+)(ms|s).*/\1 \2/p' "$WORK/log.$who" |
            awk '{ v = ($2 == "s") ? $1 * 1000 : $1; if (v > m) m = v } END { printf "%.0fms", m }')
          ;;
        django) longest="(3)" ;;
        esac
        read -r wall rss user sys <"$WORK/time.$who"
        read -r worst failed <"$WORK/writer.$who"
        [ "$worst" = - ] || worst=${worst}ms
        printf '%-9s %-12s %-7s %8s %7.2f %8s %10s %12s %9s\n' "$rows" "$layout" "$who" "$wall" \
          "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" "$rss" "$longest" "$worst" "$failed" | tee -a "$OUT"
      done
      # All must have deleted the same rows, give or take rows that aged past a cutoff between
      # the runs (each computes "now" itself); the writer's own rows are left out.
      first=${whos[0]}
      for table in users conversations "messages WHERE role <> 'w'"; do
        b=$(sqlite3 "$WORK/$first.db" "SELECT count(*) FROM $table")
        for who in "${whos[@]}"; do
          a=$(sqlite3 "$WORK/$who.db" "SELECT count(*) FROM $table")
          [ "$a" = "$b" ] || echo "warning: $table differs: $who $a, $first $b" | tee -a "$OUT"
        done
      done
    done
  done
done
