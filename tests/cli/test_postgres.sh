#!/usr/bin/env bash
# The built binary on a real PostgreSQL server (the one scripts/test starts, named by
# HOUSEKEEP_TEST_PG_HOST and HOUSEKEEP_TEST_PG_PORT): the built-in tasks delete exactly what
# SQL names on timestamptz and boolean columns, a dry run writes nothing, an archive restores
# every row byte for byte, a held lease refuses a second run (75) naming its holder.
. "$(dirname "$0")/lib.sh"
if [ -z "${HOUSEKEEP_TEST_PG_HOST:-}" ] || [ -z "${HOUSEKEEP_TEST_PG_PORT:-}" ]; then
  echo "no PostgreSQL test server (HOUSEKEEP_TEST_PG_HOST, HOUSEKEEP_TEST_PG_PORT): skipped"
  exit 77
fi
DB=hk_cli_$$
ADMIN="host=$HOUSEKEEP_TEST_PG_HOST port=$HOUSEKEEP_TEST_PG_PORT user=postgres"
q() { psql "$ADMIN dbname=$DB" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
psql "$ADMIN dbname=postgres" -qAtX -c "CREATE DATABASE $DB" || exit 1
trap 'psql "$ADMIN dbname=postgres" -qAtX -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
URL="postgresql://postgres@/$DB?host=$HOUSEKEEP_TEST_PG_HOST&port=$HOUSEKEEP_TEST_PG_PORT"

q "CREATE TABLE users (id BIGSERIAL PRIMARY KEY, username TEXT, is_active BOOLEAN NOT NULL,
     date_joined TIMESTAMPTZ NOT NULL, avatar BYTEA);
   CREATE TABLE conversations (id BIGSERIAL PRIMARY KEY, user_id BIGINT REFERENCES users (id),
     created_at TIMESTAMPTZ NOT NULL);
   CREATE TABLE messages (id BIGSERIAL PRIMARY KEY, conversation_id BIGINT REFERENCES conversations (id),
     content TEXT, created_at TIMESTAMPTZ NOT NULL, score DOUBLE PRECISION);
   CREATE INDEX ON conversations (created_at); CREATE INDEX ON conversations (user_id);
   CREATE INDEX ON messages (conversation_id); CREATE INDEX ON users (date_joined);
   INSERT INTO users (username, is_active, date_joined, avatar)
     SELECT 'u' || i, i % 5 <> 0, now() - (i || ' days')::interval, '\\x00ff41'::bytea FROM generate_series(1, 60) i;
   -- ids not in time order: the newest conversations get the lowest ids.
   INSERT INTO conversations (user_id, created_at)
     SELECT 1 + (i % 60), now() - ((400 - i) % 90 || ' days')::interval - (i || ' seconds')::interval
     FROM generate_series(1, 400) i;
   INSERT INTO messages (conversation_id, content, created_at, score)
     SELECT 1 + (i % 400), 'héllo ' || i, now() - ((i % 90) || ' days')::interval, i / 7.0 FROM generate_series(1, 4000) i;
   INSERT INTO messages (conversation_id, content, created_at) VALUES (NULL, 'orphan', now());"
snapshot() {
  for table in users conversations messages; do
    q "SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM $table t"
  done
}
before=$(snapshot)

expect 0 "" "$HK" --db "$URL" --json run --task all --dry-run
check "dry run: nothing changed" [ "$(snapshot)" = "$before" ]
check "dry run: not even history" [ "$(q "SELECT to_regclass('housekeep_runs') IS NULL")" = t ]
check "dry run: conversations counted as SQL counts them" \
  [ "$(jq '.tasks[0].deleted.conversations' out)" = "$(q "SELECT count(*) FROM conversations WHERE created_at < now() - interval '30 days'")" ]

old_conversations=$(q "SELECT string_agg(id::text, ',' ORDER BY id) FROM conversations WHERE created_at < now() - interval '30 days'
  OR user_id IN (SELECT id FROM users WHERE NOT is_active AND date_joined < now() - interval '7 days')")
old_users=$(q "SELECT string_agg(id::text, ',' ORDER BY id) FROM users WHERE NOT is_active AND date_joined < now() - interval '7 days'")
mkdir -m 700 arch
expect 0 "" "$HK" --db "$URL" run --task all --archive arch
check "no conversation left older than 30 days" [ "$(q "SELECT count(*) FROM conversations WHERE created_at < now() - interval '30 days'")" = 0 ]
check "exactly the conversations SQL named went" \
  [ "$(q "SELECT count(*) FROM conversations WHERE id = ANY ('{$old_conversations}'::bigint[])")" = 0 ]
check "and no other" [ "$(q "SELECT count(*) FROM conversations")" = "$((400 - $(tr ',' '\n' <<<"$old_conversations" | wc -l)))" ]
check "exactly the never-activated users SQL named went" \
  [ "$(q "SELECT count(*) FROM users")" = "$((60 - $(tr ',' '\n' <<<"$old_users" | wc -l)))" ]
check "nothing orphaned" [ "$(q "SELECT count(*) FROM messages WHERE conversation_id IS NULL OR conversation_id NOT IN (SELECT id FROM conversations)")" = 0 ]
check "history recorded on the server" [ "$(q "SELECT count(*) FROM housekeep_runs WHERE status = 'ok'")" = 4 ]
expect 0 "" "$HK" --db "$URL" --json history --limit 4
check "history reads it back" [ "$(jq '.runs | length' out)" = 4 ]

expect 0 "" "$HK" --db "$URL" restore arch/*.jsonl
check "restore: every row back, byte for byte" [ "$(snapshot)" = "$before" ]

# A lease another run holds: refused, naming it; once the lease runs out, taken over.
q "INSERT INTO housekeep_locks VALUES ('purge', 4242, 'other-host', 'run --task all', '2026-01-01T00:00:00.000Z', 'x', now() + interval '1 minute')"
expect 75 "pid 4242 on other-host" "$HK" --db "$URL" run --task messages
q "UPDATE housekeep_locks SET lease_until = now() - interval '1 second'"
expect 0 "took over the purge lock of pid 4242" "$HK" --db "$URL" run --task messages
check "the lock is released after the run" [ "$(q "SELECT count(*) FROM housekeep_locks")" = 0 ]

# Two runs at once: the second exits 75 naming the first, directly and through PgBouncer in
# transaction pooling mode (where session advisory locks would not hold).
q "INSERT INTO messages (conversation_id, content, created_at) SELECT NULL, 'orphan', now() FROM generate_series(1, 400)"
two_at_once() {
  local url=$1 how=$2
  "$HK" --db "$url" run --task messages --batch-size 1 --sleep 200ms >first.out 2>first.err &
  local first=$!
  local waited=0
  until [ "$(q "SELECT count(*) FROM housekeep_locks WHERE pid = $first")" = 1 ] || [ $waited -ge 100 ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  expect 75 "holds the purge lock" "$HK" --db "$url" run --task messages
  check "$how: the refusal names the running one (pid $first)" grep -q "pid $first on" err
  wait "$first"
  check "$how: the first run finished" [ $? -eq 0 ]
  check "$how: it deleted the orphans" [ "$(q "SELECT count(*) FROM messages WHERE conversation_id IS NULL")" = 0 ]
  check "$how: the lock is released" [ "$(q "SELECT count(*) FROM housekeep_locks")" = 0 ]
}
two_at_once "$URL" "direct"
if [ -n "${HOUSEKEEP_TEST_PGBOUNCER_PORT:-}" ]; then
  POOLED="postgresql://postgres@127.0.0.1:$HOUSEKEEP_TEST_PGBOUNCER_PORT/$DB"
  q "INSERT INTO messages (conversation_id, content, created_at) SELECT NULL, 'orphan', now() FROM generate_series(1, 400)"
  two_at_once "$POOLED" "through PgBouncer"
  expect 0 "" "$HK" --db "$POOLED" --json run --task all --dry-run
  check "through PgBouncer: the dry run counts as directly" [ "$(jq -c '[.tasks[].deleted]' out)" = "$("$HK" --db "$URL" --json run --task all --dry-run 2>/dev/null | jq -c '[.tasks[].deleted]')" ]
  expect 0 "" "$HK" --db "$POOLED" run --task all
else
  echo "note: no PgBouncer (HOUSEKEEP_TEST_PGBOUNCER_PORT): the pooled cases were not run"
fi

# A row the application holds locked: the batch gives up after busy_timeout, rolls back and
# is tried again with backoff; the archive holds each deleted row once.
printf '[database]\nbusy_timeout = "200ms"\n' >short.toml
q "INSERT INTO messages (conversation_id, content, created_at) SELECT NULL, 'orphan', now() FROM generate_series(1, 30)"
hold_row() { # the application keeps the lowest orphan locked until release_row
  psql "$ADMIN dbname=$DB application_name=app_holding_a_row" -qAtX -c "BEGIN" \
    -c "SELECT id FROM messages WHERE id = (SELECT min(id) FROM messages WHERE conversation_id IS NULL) FOR UPDATE" \
    -c "SELECT pg_sleep(60)" -c "COMMIT" >/dev/null 2>&1 &
  holder=$!
  local waited=0
  until [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'app_holding_a_row' AND query LIKE 'SELECT pg_sleep%' AND state = 'active'")" = 1 ] || [ $waited -ge 100 ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
}
release_row() {
  q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'app_holding_a_row'" >/dev/null
  wait "$holder"
}
rm -rf arch2 && mkdir -m 700 arch2
hold_row
"$HK" --db "$URL" -c short.toml run --task messages --archive arch2 >retry.out 2>retry.err &
retrying=$!
waited=0
until grep -q "rolled back" retry.err || [ $waited -ge 100 ]; do
  sleep 0.1
  waited=$((waited + 1))
done
release_row
wait "$retrying"
rc=$?
check "a batch that met the locked row was rolled back and tried again (exit $rc): $(tr '\n' ' ' <retry.err)" [ "$rc" = 0 ]
check "the retry said why: the lock timeout" grep -q "lock timeout" retry.err
check "after the retries, every orphan went" [ "$(q "SELECT count(*) FROM messages WHERE conversation_id IS NULL")" = 0 ]
archived=$(cat arch2/*.jsonl | jq -R -r 'fromjson? | select(.housekeep_archive == null) | .id')
check "the archive holds each of the 30 deleted rows once" \
  [ "$(sort -u <<<"$archived" | wc -l)" = 30 -a "$(wc -l <<<"$archived")" = 30 ]
q "INSERT INTO messages (conversation_id, content, created_at) SELECT NULL, 'orphan', now() FROM generate_series(1, 30)"
hold_row
expect 75 "lock timeout" "$HK" --db "$URL" -c short.toml run --task messages --batch-size 1000
release_row
check "given up after 5 retries" [ "$(grep -c "trying it again" err)" = 5 ]
check "the locked batch was rolled back: nothing of it went" [ "$(q "SELECT count(*) FROM messages WHERE conversation_id IS NULL")" = 30 ]
check "the lock was released" [ "$(q "SELECT count(*) FROM housekeep_locks")" = 0 ]

# A purge cut off mid-way (its connections ended by the server, or the process killed with
# SIGKILL): 75 or nothing at all, the open batch rolled back; the next run, on this machine,
# sees that the lease's holder is gone, takes the lock at once and finishes the job.
seed_conversations() {
  q "DELETE FROM messages; DELETE FROM conversations;
     INSERT INTO conversations (user_id, created_at) SELECT NULL, now() - interval '90 days' FROM generate_series(1, 300);
     INSERT INTO messages (conversation_id, content, created_at) SELECT c.id, 'm', c.created_at FROM conversations c, generate_series(1, 5);
     INSERT INTO conversations (user_id, created_at) SELECT NULL, now() FROM generate_series(1, 20);
     INSERT INTO messages (conversation_id, content, created_at) SELECT c.id, 'new', c.created_at FROM conversations c WHERE c.created_at > now() - interval '1 day';"
}
archived_ids() { # archived_ids DIR TABLE
  for f in "$1"/*-"$2"-*.jsonl; do
    [ -e "$f" ] || continue
    jq -R -r 'fromjson? | select(.housekeep_archive == null) | .id' "$f"
  done | sort -u
}
slow_run() { # slow_run DIR: a purge of conversations in batches of 5, paced
  "$HK" --db "$URL" run --task conversations --archive "$1" --batch-size 5 --batch-time 0 --sleep 50ms >"$1.out" 2>"$1.err" &
  slow_pid=$!
  local waited=0
  # (The old conversations' 1,500 messages go first, in key order, then the conversations.)
  local start
  start=$(q "SELECT count(*) FROM messages")
  until [ "$(q "SELECT count(*) FROM messages")" -lt $((start - 20)) ] || [ $waited -ge 200 ]; do
    sleep 0.05
    waited=$((waited + 1))
  done
}
for how in terminated killed; do
  seed_conversations
  q "SELECT id FROM conversations ORDER BY id" >all_conversations.txt
  q "SELECT id FROM messages ORDER BY id" >all_messages.txt
  rm -rf "arc-$how" && mkdir -m 700 "arc-$how"
  slow_run "arc-$how"
  if [ "$how" = terminated ]; then
    q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'housekeep' AND datname = current_database()" >/dev/null
    wait "$slow_pid"
    rc=$?
    check "terminated: the run exits 75 (got $rc)" [ "$rc" = 75 ]
    check "terminated: it says the connection was lost" grep -q "connection was lost" "arc-$how.err"
  else
    kill -KILL "$slow_pid"
    wait "$slow_pid" 2>/dev/null
  fi
  left=$(q "SELECT (SELECT count(*) FROM conversations WHERE created_at < now() - interval '30 days') + (SELECT count(*) FROM messages WHERE created_at < now() - interval '30 days')")
  check "$how: cut off mid-way ($left of 1,800 old rows left)" [ "$left" -gt 0 -a "$left" -lt 1800 ]
  check "$how: no message lost its conversation" [ "$(q "SELECT count(*) FROM messages WHERE conversation_id NOT IN (SELECT id FROM conversations)")" = 0 ]
  check "$how: its lease is still in housekeep_locks" [ "$(q "SELECT count(*) FROM housekeep_locks WHERE lease_until > now()")" = 1 ]
  for table in conversations messages; do
    q "SELECT id FROM $table ORDER BY id" >"now_$table.txt"
    comm -23 <(sort "all_$table.txt") <(sort "now_$table.txt") >gone.txt
    check "$how: every deleted row of $table is in the archive ($(wc -l <gone.txt) gone)" \
      [ -z "$(comm -23 gone.txt <(archived_ids "arc-$how" "$table"))" ]
  done
  expect 0 "took over the purge lock of pid $slow_pid" "$HK" --db "$URL" run --task conversations --archive "arc-$how"
  check "$how: the next run finished the job" [ "$(q "SELECT count(*) FROM conversations WHERE created_at < now() - interval '30 days'")" = 0 ]
  check "$how: and kept the new ones" [ "$(q "SELECT count(*) FROM conversations")" = 20 ]
  check "$how: nothing orphaned" [ "$(q "SELECT count(*) FROM messages WHERE conversation_id NOT IN (SELECT id FROM conversations)")" = 0 ]
  for table in conversations messages; do
    check "$how: archive ⊇ deleted for $table" \
      [ -z "$(comm -23 <(comm -23 <(sort "all_$table.txt") <(q "SELECT id FROM $table" | sort)) <(archived_ids "arc-$how" "$table"))" ]
  done
done

# Upkeep. A purge reports the dead rows it left in each table it deleted from (as the
# server's statistics count them); vacuum is VACUUM (ANALYZE) of the purged tables (and only
# those), reporting each one's dead rows and size before and after, and the database's size.
mkdir -m 700 backups
q "CREATE TABLE unrelated (id INT); INSERT INTO unrelated VALUES (1); DELETE FROM unrelated;
   INSERT INTO messages (conversation_id, content, created_at) SELECT NULL, 'orphan', now() FROM generate_series(1, 40)"
expect 0 "" "$HK" --db "$URL" --json run --task messages
deleted=$(jq '.tasks[0].deleted.messages' out)
check "the purge reports the dead rows it left in messages ($(jq -c .tasks[0].dead_rows out); $deleted deleted)" \
  jq -e ".tasks[0].dead_rows.messages >= $deleted and $deleted == 40" out
printf '[tasks.compact]\nkind = "vacuum"\nmode = "incremental"\n\n[tasks.backup]\ndirectory = "%s/backups"\n' "$WORK" >upkeep.toml
expect 0 "" "$HK" --db "$URL" -c upkeep.toml --json run --task compact
check "vacuum: messages had the purge's dead rows before, none after ($(jq -c .tasks[0].stats out))" \
  jq -e '.tasks[0].stats["messages.dead_rows_before"] >= 40 and .tasks[0].stats["messages.dead_rows_after"] == 0 and .tasks[0].stats["messages.bytes_after"] > 0' out
check "vacuum: only the purged tables ('unrelated' untouched)" \
  [ "$(q "SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'unrelated' AND last_vacuum IS NULL")" = 1 ]
# (The run's own history row may add a page after the vacuum: sizes agree within 1 MiB.)
size=$(q "SELECT pg_database_size(current_database())")
check "vacuum reports the database's size ($(jq -c .tasks[0].stats out) vs $size)" \
  jq -e ".tasks[0].stats.bytes_after > 0 and (.tasks[0].stats.bytes_after - $size | fabs) < 1048576" out
check "vacuum ran: the statistics were gathered" [ "$(q "SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'messages' AND last_vacuum IS NOT NULL AND last_analyze IS NOT NULL")" = 1 ]
printf '[tasks.compact]\nkind = "vacuum"\ntables = ["no_such_table"]\n' >badvac.toml
expect 65 "table 'no_such_table' does not exist" "$HK" --db "$URL" -c badvac.toml run --task compact
# A backup is pg_dump's custom format, written under a temporary name, checked with
# pg_restore --list, then renamed; the password reaches pg_dump in its environment only.
expect 0 "pg_restore --list ok" "$HK" --db "$URL" -c upkeep.toml --json run --task backup
made=$(jq -r '.tasks[0].output' out)
check "backup: named <db>-<UTC stamp>.dump ($made)" grep -Eq "/backups/${DB}-[0-9]{8}T[0-9]{6}Z\.dump$" <<<"$made"
check "backup: mode 0600" [ "$(stat -c %a "$made")" = 600 ]
check "backup: nothing else left in the directory" [ "$(ls -A backups | wc -l)" = 1 ]
psql "$ADMIN dbname=postgres" -qAtX -c "CREATE DATABASE ${DB}_copy" >/dev/null
pg_restore --no-owner -d "$ADMIN dbname=${DB}_copy" "$made"
check "backup: restores to the same rows" [ "$(psql "$ADMIN dbname=${DB}_copy" -qAtX -c "SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM messages t")" = "$(q "SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM messages t")" ]
psql "$ADMIN dbname=postgres" -qAtX -c "DROP DATABASE ${DB}_copy" >/dev/null
# Retention: keep_last protects the newest; older ones beyond keep_days go.
for stamp in 20200101T000000Z 20200102T000000Z; do cp "$made" "backups/${DB}-$stamp.dump"; done
printf '[tasks.backup]\ndirectory = "%s/backups"\nkeep_days = 1\nkeep_last = 2\n' "$WORK" >keep.toml
sleep 1
expect 0 "" "$HK" --db "$URL" -c keep.toml run --task backup
check "backup: retention kept the newest two, deleted the rest" [ "$(ls backups | wc -l)" = 2 -a ! -e "backups/${DB}-20200101T000000Z.dump" ]
# A password given in the URL reaches pg_dump, and appears in no output.
q "ALTER ROLE postgres PASSWORD 'pw-s3cret'"
sleep 1
printf '[tasks.backup]\ndirectory = "%s/backups"\ntool = "%s"\n' "$WORK" "$(command -v pg_dump)" >tool.toml
expect 0 "" "$HK" --db "postgresql://postgres:pw-s3cret@/$DB?host=$HOUSEKEEP_TEST_PG_HOST&port=$HOUSEKEEP_TEST_PG_PORT" -c tool.toml run --task backup
check "backup: the password is in no output" [ "$(cat out err | grep -c pw-s3cret)" = 0 ]
q "ALTER ROLE postgres PASSWORD NULL"
printf '[tasks.backup]\ndirectory = "%s/backups"\ntool = "/nonexistent/pg_dump"\n' "$WORK" >missing.toml
before_files=$(ls -A backups | wc -l)
sleep 1
expect 69 "cannot run pg_dump" "$HK" --db "$URL" -c missing.toml run --task backup
check "backup: a missing pg_dump leaves no file" [ "$(ls -A backups | wc -l)" = "$before_files" ]

# housekeep's own tables in a schema of their own, created on first write.
printf '[database]\nhistory_schema = "hk_meta"\n' >schema.toml
runs_before=$(q "SELECT count(*) FROM housekeep_runs")
expect 0 "" "$HK" --db "$URL" -c schema.toml run --task messages
check "history_schema: the schema and its tables were created" \
  [ "$(q "SELECT count(*) FROM pg_tables WHERE schemaname = 'hk_meta' AND tablename IN ('housekeep_runs', 'housekeep_locks')")" = 2 ]
check "history_schema: the run is recorded there" [ "$(q "SELECT count(*) FROM hk_meta.housekeep_runs")" = 1 ]
check "history_schema: and not in the default schema" [ "$(q "SELECT count(*) FROM housekeep_runs")" = "$runs_before" ]
expect 0 "" "$HK" --db "$URL" -c schema.toml --json history
check "history_schema: history reads it" [ "$(jq '.runs | length' out)" = 1 ]
q "INSERT INTO hk_meta.housekeep_locks VALUES ('purge', 4343, 'elsewhere', 'run', '2026-01-01T00:00:00.000Z', 'x', now() + interval '1 minute')"
expect 75 "pid 4343 on elsewhere" "$HK" --db "$URL" -c schema.toml run --task messages
# (the default schema's lock is another, and free)
expect 0 "" "$HK" --db "$URL" run --task messages
q "DELETE FROM hk_meta.housekeep_locks"
printf '[database]\nhistory_schema = "Bad-Name"\n' >badschema.toml
expect 78 "badschema.toml:2:18: database.history_schema: 'Bad-Name' is not a schema name" "$HK" --db "$URL" -c badschema.toml run --task stats
expect 78 "applies to PostgreSQL only" "$HK" --db "$WORK/app.db" -c schema.toml run --task stats

# A role that may read but not delete: 77 naming the table, nothing deleted.
q "SET client_min_messages = warning; DROP ROLE IF EXISTS hk_reader; CREATE ROLE hk_reader LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO hk_reader;
   GRANT CREATE, USAGE ON SCHEMA public TO hk_reader; GRANT ALL ON housekeep_runs, housekeep_locks TO hk_reader;
   GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO hk_reader;
   INSERT INTO messages (conversation_id, content, created_at) VALUES (NULL, 'orphan', now());"
READER="postgresql://hk_reader@/$DB?host=$HOUSEKEEP_TEST_PG_HOST&port=$HOUSEKEEP_TEST_PG_PORT"
expect 77 "permission denied for table messages" "$HK" --db "$READER" run --task messages
check "the orphan is still there" [ "$(q "SELECT count(*) FROM messages WHERE conversation_id IS NULL")" = 1 ]
q "REASSIGN OWNED BY hk_reader TO postgres; DROP OWNED BY hk_reader; DROP ROLE hk_reader"

# The demo's tables in an existing database: users, conversations and messages as on SQLite
# (timestamptz, boolean), written whole in one transaction; never over existing tables.
DEMO=${DB}_demo
psql "$ADMIN dbname=postgres" -qAtX -c "CREATE DATABASE $DEMO" >/dev/null
DEMO_URL="postgresql://postgres@/$DEMO?host=$HOUSEKEEP_TEST_PG_HOST&port=$HOUSEKEEP_TEST_PG_PORT"
dq() { psql "$ADMIN dbname=$DEMO" -qAtX -c "$1"; }
expect 0 "" "$HK" --db "$DEMO_URL" --json demo --rows 5000
check "demo: as many rows as it says" [ "$(jq -c '[.users, .conversations, .messages, .orphan_messages]' out)" = \
  "[$(dq "SELECT count(*) FROM users"),$(dq "SELECT count(*) FROM conversations"),$(dq "SELECT count(*) FROM messages"),$(dq "SELECT count(*) FROM messages m WHERE conversation_id IS NULL OR NOT EXISTS (SELECT 1 FROM conversations c WHERE c.id = m.conversation_id)")]" ]
check "demo: the same rows as the SQLite demo" [ "$(dq "SELECT count(*) || ',' || sum(id) || ',' || count(conversation_id) || ',' || count(expires_at) FROM messages")" = \
  "$("$HK" --db demo.db demo --rows 5000 -q >/dev/null 2>&1; sqlite3 demo.db "SELECT count(*) || ',' || sum(id) || ',' || count(conversation_id) || ',' || count(expires_at) FROM messages")" ]
check "demo: typed columns" [ "$(dq "SELECT string_agg(data_type, ',' ORDER BY column_name) FROM information_schema.columns WHERE table_name = 'users' AND column_name IN ('is_active', 'date_joined')")" = "timestamp with time zone,boolean" ]
expect 0 "" "$HK" --db "$DEMO_URL" --json run --task all --dry-run
cp out dry-demo.json
check "demo: the dry run counts what SQL counts" [ "$(jq '.tasks[0].deleted.conversations' out)" = "$(dq "SELECT count(*) FROM conversations WHERE created_at < now() - interval '30 days'")" ]
expect 73 "table 'users' already exists" "$HK" --db "$DEMO_URL" demo --rows 10
expect 64 "never tables of a server" "$HK" --db "$DEMO_URL" demo --rows 10 --force
# A table a purge changed much (two thirds of the conversations go) gets fresh planner
# statistics while a later task of the run still deletes, since its statements are planned on
# them; when no task follows, autovacuum takes them in its own time.
psql "$ADMIN dbname=postgres" -qAtX -c "CREATE DATABASE ${DEMO}_alone TEMPLATE $DEMO" >/dev/null
expect 0 "conversations: took the planner's statistics of 'conversations' afresh" "$HK" --db "$DEMO_URL" -v run --task all
expect 0 "" "$HK" --db "postgresql://postgres@/${DEMO}_alone?host=$HOUSEKEEP_TEST_PG_HOST&port=$HOUSEKEEP_TEST_PG_PORT" \
  -v run --task conversations
check "the same purge as the run's last task leaves the statistics to autovacuum" [ -z "$(grep "afresh" err)" ]
check "it deleted as many conversations" grep -q "deleted .* $(jq -r '.tasks[0].deleted.conversations' dry-demo.json) conversations" err
psql "$ADMIN dbname=postgres" -qAtX -c "DROP DATABASE ${DEMO}_alone" >/dev/null
psql "$ADMIN dbname=postgres" -qAtX -c "DROP DATABASE $DEMO" >/dev/null

# The daemon on a server, directly and through PgBouncer in transaction mode: it fires every
# second, records its runs and heartbeat, runs beside a second daemon (naming it), and stops
# on SIGTERM within 2 s, recorded as stopped.
printf '[jobs.tick]\ntask = "stats"\nschedule = "* * * * * *"\n' >tick.toml
daemon_on() {
  local url=$1 how=$2 runs_before pid i rc
  runs_before=$(q "SELECT count(*) FROM housekeep_runs WHERE job = 'tick'")
  "$HK" --db "$url" -c tick.toml daemon 2>daemon.err &
  pid=$!
  for ((i = 0; i < 100; i++)); do
    [ "$(q "SELECT count(*) FROM housekeep_runs WHERE job = 'tick'")" -ge $((runs_before + 3)) ] && break
    sleep 0.1
  done
  check "daemon $how: fires every second ($(q "SELECT count(*) FROM housekeep_runs WHERE job = 'tick'") runs)" \
    [ "$(q "SELECT count(*) FROM housekeep_runs WHERE job = 'tick'")" -ge $((runs_before + 3)) ]
  "$HK" --db "$url" -c tick.toml daemon 2>daemon2.err &
  local second=$!
  check "daemon $how: a second one runs beside it, naming it" wait_for 5 grep -q "another daemon runs for this database: pid $pid on" daemon2.err
  kill -TERM "$second"
  wait "$second"
  expect 0 "" "$HK" --db "$url" -c tick.toml --json scheduler-info
  check "daemon $how: scheduler-info shows it running" jq -e --argjson pid "$pid" '.daemon.running and ([.daemon.replicas[] | select(.state == "running") | .pid] == [$pid])' out
  local start end
  start=$(date +%s%N)
  kill -TERM "$pid"
  wait "$pid"
  rc=$?
  end=$(date +%s%N)
  check "daemon $how: SIGTERM exits 0 (rc $rc)" [ "$rc" -eq 0 ]
  check "daemon $how: within 2 s ($(((end - start) / 1000000)) ms)" [ $(((end - start) / 1000000)) -lt 2000 ]
  check "daemon $how: recorded as stopped" [ "$(q "SELECT string_agg(DISTINCT status, ',') FROM housekeep_replicas")" = stopped ]
  check "daemon $how: every run's slot claimed once, by the daemon that ran it" [ "$(q "SELECT count(*) FROM housekeep_runs r WHERE job = 'tick' AND NOT EXISTS (SELECT 1 FROM housekeep_claims c WHERE c.job = r.job AND c.pid = r.pid AND c.status = r.status AND left(c.slot, 19) = left(r.started_at, 19))")" = 0 ]
  check "daemon $how: no second ran twice" [ "$(q "SELECT count(*) - count(DISTINCT substr(started_at, 1, 19)) FROM housekeep_runs WHERE job = 'tick'")" = 0 ]
}
daemon_on "$URL" "directly"
if [ -n "${HOUSEKEEP_TEST_PGBOUNCER_PORT:-}" ]; then
  daemon_on "postgresql://postgres@127.0.0.1:$HOUSEKEEP_TEST_PGBOUNCER_PORT/$DB" "through PgBouncer"
fi

# A standby replaying behind max_replication_lag pauses the purge until it catches up, and
# the log says so; a role that cannot see the standbys' lag is told once.
if [ -n "${HOUSEKEEP_TEST_PG_STANDBY_PORT:-}" ]; then
  STANDBY="host=$HOUSEKEEP_TEST_PG_HOST port=$HOUSEKEEP_TEST_PG_STANDBY_PORT user=postgres dbname=postgres"
  printf '[database]\nmax_replication_lag = "1s"\n' >lag.toml
  q "INSERT INTO messages (conversation_id, content, created_at) SELECT NULL, 'orphan', now() FROM generate_series(1, 30);
     CREATE TABLE wal_tick (x int)"
  # The standby reports its replay position as WAL reaches it: a row every 100 ms keeps its
  # lag, as the primary sees it, up to date both ways.
  (while [ ! -e ticks.stop ]; do q "INSERT INTO wal_tick VALUES (1)"; sleep 0.1; done) &
  ticker=$!
  psql "$STANDBY" -qAtX -c "SELECT pg_wal_replay_pause()" >/dev/null
  for ((i = 0; i < 50; i++)); do
    [ "$(q "SELECT count(*) FROM pg_stat_replication WHERE replay_lag > interval '1.2 s'")" = 1 ] && break
    sleep 0.1
  done
  check "standby: the premise: it replays more than 1.2 s behind" \
    [ "$(q "SELECT count(*) FROM pg_stat_replication WHERE replay_lag > interval '1.2 s'")" = 1 ]
  (sleep 3 && psql "$STANDBY" -qAtX -c "SELECT pg_wal_replay_resume()" >/dev/null) &
  resumer=$!
  started=$(date +%s%N)
  expect 0 "standby 'hk_standby' is" "$HK" --db "$URL" -c lag.toml run --task messages --batch-size 10
  waited_ms=$((($(date +%s%N) - started) / 1000000))
  wait "$resumer"
  check "standby: the purge waited for the standby ($waited_ms ms)" [ "$waited_ms" -ge 2000 ]
  check "standby: the log says it waited and went on" grep -q "the standbys caught up; the purge goes on after waiting" err
  check "standby: the orphans are gone all the same" [ "$(q "SELECT count(*) FROM messages WHERE conversation_id IS NULL")" = 0 ]
  expect 0 "" "$HK" --db "$URL" -c lag.toml run --task messages
  check "standby: caught up, no wait" [ "$(grep -c 'waits for it' err)" = 0 ]
  touch ticks.stop
  wait "$ticker"
  q "SET client_min_messages = warning; DROP ROLE IF EXISTS hk_purger; CREATE ROLE hk_purger LOGIN;
     GRANT SELECT, DELETE ON ALL TABLES IN SCHEMA public TO hk_purger; GRANT ALL ON housekeep_runs, housekeep_locks TO hk_purger;
     GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO hk_purger;
     INSERT INTO messages (conversation_id, content, created_at) SELECT NULL, 'orphan', now() FROM generate_series(1, 3)"
  PURGER="postgresql://hk_purger@/$DB?host=$HOUSEKEEP_TEST_PG_HOST&port=$HOUSEKEEP_TEST_PG_PORT"
  expect 0 "cannot see how far the standbys are behind" "$HK" --db "$PURGER" -c lag.toml run --task messages --batch-size 1
  check "standby: told once" [ "$(grep -c 'cannot see how far' err)" = 1 ]
  q "REASSIGN OWNED BY hk_purger TO postgres; DROP OWNED BY hk_purger; DROP ROLE hk_purger"
fi

# Wrong database, wrong table: the statuses of SPEC §3, the password masked.
expect 66 "does not exist" "$HK" --db "postgresql://postgres:s3cret@/no_such_db?host=$HOUSEKEEP_TEST_PG_HOST&port=$HOUSEKEEP_TEST_PG_PORT" run --task stats
check "the password is masked" [ "$(grep -c s3cret err)" = 0 ]
printf '[tasks.conversations]\ntable = "chats"\n' >chats.toml
expect 65 "table 'chats' does not exist" "$HK" --db "$URL" -c chats.toml run --task conversations
finish
