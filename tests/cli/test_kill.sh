#!/usr/bin/env bash
# A purge killed with SIGKILL in the middle of its work: the database stays consistent, the
# archive already holds every row that went, the next run finishes the job, and restoring
# every archive gives back the original rows.
. "$(dirname "$0")/lib.sh"

APP=$(db app)
"$HK" --db "$APP" demo --rows 30000 -q
ORIGINAL=$(copy_db "$APP" original)
mkdir arc

# table_dump DB: every row of the three tables, every column quoted with its type.
table_dump() {
  if [ "$ENGINE" = sqlite ]; then
    sqlite3 -batch "$1" "
      SELECT 'u', id, typeof(username), quote(username), quote(email), quote(is_active), quote(date_joined) FROM users ORDER BY id;
      SELECT 'c', id, quote(user_id), quote(title), quote(created_at) FROM conversations ORDER BY id;
      SELECT 'm', id, quote(conversation_id), quote(role), quote(content), quote(created_at), quote(expires_at) FROM messages ORDER BY id;"
  else
    for table in users conversations messages; do q "$1" "SELECT t::text FROM $table t ORDER BY id"; done
  fi
}
# The original ids of each table, sorted as comm wants them.
for table in users conversations messages; do q "$ORIGINAL" "SELECT id FROM $table" | sort >"original-$table.txt"; done

# archived_ids TABLE: the ids of TABLE's rows in every archive so far (a line cut short by
# the kill is not a row).
archived_ids() {
  for f in arc/*-"$1"-*.jsonl; do
    [ -e "$f" ] || continue
    jq -R -r 'fromjson? | select(.housekeep_archive == null) | .id' "$f"
  done
}

for round in 1 2 3; do
  "$HK" --db "$APP" run --task all --archive arc --batch-size 20 --batch-time 0 --sleep 20ms -q \
    >/dev/null 2>"kill$round.err" &
  pid=$!
  # Killed at a different point each round, counted from when its first task started (a
  # build with sanitizers takes longer to get there).
  started() { [ "$(q "$APP" "SELECT count(*) FROM housekeep_runs WHERE status = 'running' AND pid = $pid" 2>/dev/null)" = 1 ]; }
  wait_for 20 started
  sleep "0.$((2 * round))"
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null
  users_done=$(q "$APP" "SELECT count(*) FROM housekeep_runs WHERE task = 'users' AND status NOT IN ('running', 'abandoned')" 2>/dev/null)
  check "round $round: the run was killed mid-purge, before its last task" [ "${users_done:-0}" = 0 ]
  check "round $round: the killed task left a trace: a row still 'running' with its pid" \
    [ "$(q "$APP" "SELECT count(*) FROM housekeep_runs WHERE status = 'running' AND pid = $pid")" = 1 ]
  [ "$ENGINE" != sqlite ] || check "round $round: integrity_check ok" [ "$(q "$APP" "PRAGMA integrity_check")" = ok ]
  q "$APP" "SELECT DISTINCT conversation_id FROM messages WHERE conversation_id NOT IN (SELECT id FROM conversations)" |
    sort >parentless.txt
  check "round $round: no message lost its conversation" [ -z "$(comm -12 parentless.txt original-conversations.txt)" ]
  check "round $round: no conversation lost its user" [ "$(q "$APP" "SELECT count(*) FROM conversations
    WHERE user_id NOT IN (SELECT id FROM users)")" = 0 ]
  for table in users conversations messages; do
    archived_ids "$table" | sort >archived.txt
    q "$APP" "SELECT id FROM $table" | sort >now.txt
    comm -23 "original-$table.txt" now.txt >gone.txt
    check "round $round: every deleted row of $table is in the archive ($(wc -l <gone.txt) gone)" \
      [ -z "$(comm -23 gone.txt archived.txt)" ]
  done
done
check "the first kill came after some rows went" \
  [ "$(q "$APP" "SELECT count(*) FROM messages")" -lt "$(wc -l <original-messages.txt)" ]
check "archives are private (mode 600)" [ -z "$(find arc -type f ! -perm 600)" ]

# A row left running by a dead process fails the health check until a run marks it.
printf '[jobs.nightly]\ntask = "all"\nschedule = "0 2 * * *"\n' >jobs.toml
q "$APP" "UPDATE housekeep_runs SET job = 'nightly' WHERE id = (SELECT max(id) FROM housekeep_runs)"
expect 1 "job 'nightly' is failed: last run at" "$HK" -c jobs.toml --db "$APP" scheduler-info --check
check "--check names the dead process" grep -q "ended without finishing the run" err

# The dead run's lock is no obstacle; this run finishes the job, and marks the killed runs.
expect 0 "was abandoned (its process is gone)" "$HK" --db "$APP" run --task all --archive arc
check "every killed run is marked abandoned" [ "$(q "$APP" "SELECT count(*) FROM housekeep_runs WHERE status = 'running'")" = 0 ]
check "three abandoned runs, one per kill" [ "$(q "$APP" "SELECT count(*) FROM housekeep_runs WHERE status = 'abandoned'")" = 3 ]
expect 0 "" "$HK" --db "$APP" --json history --limit 100
check "history shows them, with why" jq -e '[.runs[] | select(.status == "abandoned" and (.error | test("killed or crashed")))] | length == 3' out
expect 0 "" "$HK" --db "$APP" --json run --task conversations --task messages --task users --dry-run
check "nothing is left for the policy" [ "$(jq '[.tasks[].deleted[]] | add' out)" = 0 ]
[ "$ENGINE" != sqlite ] || check "foreign_key_check is clean" [ -z "$(q "$APP" "PRAGMA foreign_key_check")" ]

# Every archive back in, in any order: the original rows, exactly. PostgreSQL checks a
# NOT VALID foreign key on new rows: the demo's orphans (messages naming conversations that
# never were) come back only without it.
if [ "$ENGINE" = postgresql ]; then
  expect 65 "an orphan" "$HK" --db "$APP" restore arc/*.jsonl
  q "$APP" "ALTER TABLE messages DROP CONSTRAINT messages_conversation_id_fkey"
fi
expect 0 "" "$HK" --db "$APP" restore $(ls arc/*.jsonl | sort -r)
check "restore gives back the original database row for row" \
  [ "$(table_dump "$APP" | md5sum)" = "$(table_dump "$ORIGINAL" | md5sum)" ]
expect 0 "" "$HK" --db "$APP" --json restore arc/*.jsonl
check "restoring twice puts nothing back" [ "$(jq '[.files[].restored] | add' out)" = 0 ]

# Bad archive directories change nothing.
FRESH=$(copy_db "$ORIGINAL" fresh)
before=$(digest "$FRESH")
expect 73 "does not exist" "$HK" --db "$FRESH" run --task all --archive no-such-dir
touch plain-file
expect 73 "is not a directory" "$HK" --db "$FRESH" run --task all --archive plain-file
check "a refused archive deletes nothing" [ "$(digest "$FRESH")" = "$before" ]
expect 65 "not a housekeep archive" "$HK" --db "$FRESH" restore plain-file
expect 66 "not found" "$HK" --db "$FRESH" restore arc/missing.jsonl

finish
