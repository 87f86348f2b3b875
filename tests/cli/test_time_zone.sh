#!/usr/bin/env bash
# Wall-clock times of a zone (time_zone): a Django project with USE_TZ = False and TIME_ZONE
# America/New_York, made by Django's migrate and filled through its ORM, stores naive local
# times: conversations created 30 days ago give or take 30 to 300 minutes, each titled with
# its offset. With time_zone set, exactly the older half goes; read as UTC, younger ones would
# go too. On PostgreSQL, Django's columns are timestamptz (instants: time_zone is refused and
# not needed), and a plain `timestamp` column of New York wall-clock times is purged exactly
# as the server's own AT TIME ZONE reading says. Skipped (77) only without python3-django.
SRC=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/lib.sh"
need_python django
ZONE=America/New_York
fill() { PYTHONDONTWRITEBYTECODE=1 "$PYTHON" "$SRC/django/migrate.py" "$@" --time-zone "$ZONE" --fill-around-cutoff; }
# The Django configuration, read as UTC (utc.toml) and in the zone (zoned.toml).
configs() {
  { printf '[database]\nurl = "%s"\n\n' "$1"; cat "$SRC/django/housekeep.toml"; } >utc.toml
  sed "/^\[tasks\.\(conversations\|messages\|users\)\]\$/a time_zone = \"$ZONE\"" utc.toml >zoned.toml
}
titles() { jq -r '[.[] | tostring] | join(" ")'; }

fill sqlite3 "$WORK/tz.db" || { fail "migrate"; finish; }
configs "sqlite://tz.db"
# Read back as New York's wall clock, the conversation titled "30" began 30 days less 30
# minutes ago (give or take the seconds since Django wrote it).
written=$(TZ=$ZONE date -d "$(q tz.db "SELECT created FROM chat_conversation WHERE title = '30'")" +%s)
meant=$(date -d '30 days ago 30 minutes' +%s)
check "Django wrote naive New York times ($written vs $meant)" [ $((written - meant)) -le 120 -a $((meant - written)) -le 120 ]
before=$(data_digest tz.db)

expect 0 "" "$HK" -c utc.toml --json run --task conversations --dry-run
check "read as UTC, conversations younger than 30 days would go too: $(jq -c .tasks[0].deleted out)" \
  jq -e '.tasks[0].deleted.chat_conversation > 4' out
expect 0 "" "$HK" -c zoned.toml -v --json run --task all --dry-run
check "the log says how the column is read" grep -q "wall-clock times in $ZONE" err
check "the dry run changed nothing" [ "$(data_digest tz.db)" = "$before" ]
expect 0 "" "$HK" -c zoned.toml --json run --task all
check "in the zone: the four older conversations go" jq -e '.tasks[0].deleted.chat_conversation == 4' out
check "in the zone: the four younger conversations stay" \
  [ "$(q tz.db 'SELECT title FROM chat_conversation ORDER BY id' | tr '\n' ' ')" = "30 90 180 300 " ]
check "their messages stay, the others went" [ "$(q tz.db 'SELECT count(*) FROM chat_message')" = 4 ]
check "never-activated users younger than 7 days stay" \
  [ "$(q tz.db "SELECT username FROM auth_user ORDER BY id" | tr '\n' ' ')" = "owner u30 u90 u180 u300 " ]
expect 0 "" "$HK" -c zoned.toml --json run --task stats
check "stats count in the zone too" jq -e '.tasks[0].stats.unparseable_times == 0' out

# A zone for a column of unix times or UTC text is refused before anything is deleted.
q tz.db "CREATE TABLE events (id INTEGER PRIMARY KEY, at INTEGER NOT NULL); INSERT INTO events (at) VALUES (strftime('%s', 'now', '-40 days'))"
printf '[tasks.events]\nkind = "aged"\ntable = "events"\ntime_column = "at"\ntime_zone = "%s"\n' "$ZONE" >>zoned.toml
expect 65 "holds unix times" "$HK" -c zoned.toml run --task events
check "the refusal leaves the row" [ "$(q tz.db 'SELECT count(*) FROM events')" = 1 ]
printf '[tasks.events]\nkind = "aged"\ntable = "events"\ntime_zone = "Mars/Olympus"\n' >badzone.toml
expect 78 "tasks.events.time_zone" "$HK" -c badzone.toml --db tz.db config check

if [ -z "${HOUSEKEEP_TEST_PG_HOST:-}" ] || ! "$PYTHON" -c 'import psycopg2' 2>/dev/null; then
  echo "PostgreSQL part not run: no test server or no python3-psycopg2"
  finish
fi
DB=hk_tz_$$
ADMIN="host=$HOUSEKEEP_TEST_PG_HOST port=$HOUSEKEEP_TEST_PG_PORT user=postgres"
pq() { PGOPTIONS="-c client_min_messages=warning" psql "$ADMIN dbname=$1" -qAtX -v ON_ERROR_STOP=1 -c "$2"; }
pq postgres "CREATE DATABASE $DB" || exit 1
trap 'pq postgres "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
fill postgresql "$DB" "$HOUSEKEEP_TEST_PG_HOST" "$HOUSEKEEP_TEST_PG_PORT" postgres || { fail "migrate on PostgreSQL"; finish; }
URL="postgresql://postgres@/$DB?host=$HOUSEKEEP_TEST_PG_HOST&port=$HOUSEKEEP_TEST_PG_PORT"
configs "$URL"
check "Django's columns are timestamptz even with USE_TZ = False" \
  [ "$(pq "$DB" "SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = 'chat_conversation'::regclass AND attname = 'created'")" = "timestamp with time zone" ]
expect 65 "has a type with a zone: its values are instants, so time_zone = \"$ZONE\" does not apply" \
  "$HK" -c zoned.toml run --task conversations
check "the refusal deleted nothing" [ "$(pq "$DB" 'SELECT count(*) FROM chat_conversation')" = 8 ]
expect 0 "" "$HK" -c utc.toml --json run --task all
check "timestamptz needs no zone: the four younger conversations stay" \
  [ "$(pq "$DB" 'SELECT title FROM chat_conversation ORDER BY id' | tr '\n' ' ')" = "30 90 180 300 " ]

# A plain `timestamp` column (what SQLAlchemy's DateTime makes) of New York wall-clock times,
# every 10 minutes from 31 to 29 days ago.
pq "$DB" "CREATE TABLE events (id BIGINT PRIMARY KEY, at TIMESTAMP NOT NULL);
INSERT INTO events SELECT n, (now() - interval '31 days' + n * interval '10 minutes') AT TIME ZONE '$ZONE'
  FROM generate_series(0, 288) AS n"
printf '[tasks.events]\nkind = "aged"\ntable = "events"\ntime_column = "at"\nolder_than = "30d"\ntime_zone = "%s"\n' "$ZONE" >events.toml
expect 0 "" "$HK" --db "$URL" -c events.toml --json run --task events
check "the run succeeds" jq -e '.ok' out
check "no event older than 30 days by the server's reading of the zone is left" \
  [ "$(pq "$DB" "SELECT count(*) FROM events WHERE (at AT TIME ZONE '$ZONE') < now() - interval '30 days 1 minute'")" = 0 ]
check "every event younger than 30 days stays (about 144 of them)" \
  [ "$(pq "$DB" "SELECT count(*) FROM events")" -ge 140 ] && \
  [ "$(pq "$DB" "SELECT min(id) FROM events")" -eq $((289 - $(pq "$DB" 'SELECT count(*) FROM events'))) ]
finish
