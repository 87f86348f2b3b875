#!/usr/bin/env bash
# A purge killed with SIGKILL in the middle of its work: the database stays consistent, the
# archive already holds every row that went, the next run finishes the job, and restoring
# every archive gives back the original rows.
. "$(dirname "$0")/lib.sh"

"$HK" --db app.db demo --rows 30000 -q
cp app.db original.db
mkdir arc

# table_dump DB: every row of the three tables, every column quoted with its type.
table_dump() {
  sqlite3 -batch "$1" "
    SELECT 'u', id, typeof(username), quote(username), quote(email), quote(is_active), quote(date_joined) FROM users ORDER BY id;
    SELECT 'c', id, quote(user_id), quote(title), quote(created_at) FROM conversations ORDER BY id;
    SELECT 'm', id, quote(conversation_id), quote(role), quote(content), quote(created_at), quote(expires_at) FROM messages ORDER BY id;"
}

# archived_ids TABLE: the ids of TABLE's rows in every archive so far (a line cut short by
# the kill is not a row).
archived_ids() {
  for f in arc/*-"$1"-*.jsonl; do
    [ -e "$f" ] || continue
    jq -R -r 'fromjson? | select(.housekeep_archive == null) | .id' "$f"
  done
}

for round in 1 2 3; do
  "$HK" --db app.db run --task all --archive arc --batch-size 20 --batch-time 0 --sleep 20ms -q \
    >/dev/null 2>"kill$round.err" &
  pid=$!
  sleep "0.$((2 + 2 * round))"
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null
  users_done=$(q app.db "SELECT count(*) FROM housekeep_runs WHERE task = 'users' AND status NOT IN ('running', 'abandoned')" 2>/dev/null)
  check "round $round: the run was killed mid-purge, before its last task" [ "${users_done:-0}" = 0 ]
  check "round $round: the killed task left a trace: a row still 'running' with its pid" \
    [ "$(q app.db "SELECT count(*) FROM housekeep_runs WHERE status = 'running' AND pid = $pid")" = 1 ]
  check "round $round: integrity_check ok" [ "$(q app.db "PRAGMA integrity_check")" = ok ]
  check "round $round: no message lost its conversation" [ "$(q app.db "ATTACH 'original.db' AS o;
    SELECT count(*) FROM messages m WHERE m.conversation_id NOT IN (SELECT id FROM conversations)
      AND m.conversation_id IN (SELECT id FROM o.conversations)")" = 0 ]
  check "round $round: no conversation lost its user" [ "$(q app.db "SELECT count(*) FROM conversations
    WHERE user_id NOT IN (SELECT id FROM users)")" = 0 ]
  for table in users conversations messages; do
    archived_ids "$table" | sort >archived.txt
    q app.db "ATTACH 'original.db' AS o; SELECT id FROM o.$table EXCEPT SELECT id FROM $table" | sort >gone.txt
    check "round $round: every deleted row of $table is in the archive ($(wc -l <gone.txt) gone)" \
      [ -z "$(comm -23 gone.txt archived.txt)" ]
  done
done
check "the first kill came after some rows went" \
  [ "$(q app.db "ATTACH 'original.db' AS o; SELECT (SELECT count(*) FROM messages) < (SELECT count(*) FROM o.messages)")" = 1 ]
check "archives are private (mode 600)" [ -z "$(find arc -type f ! -perm 600)" ]

# A row left running by a dead process fails the health check until a run marks it.
printf '[jobs.nightly]\ntask = "all"\nschedule = "0 2 * * *"\n' >jobs.toml
q app.db "UPDATE housekeep_runs SET job = 'nightly' WHERE id = (SELECT max(id) FROM housekeep_runs)"
expect 1 "job 'nightly' is failed: last run at" "$HK" -c jobs.toml --db app.db scheduler-info --check
check "--check names the dead process" grep -q "ended without finishing the run" err

# The dead run's lock is no obstacle; this run finishes the job, and marks the killed runs.
expect 0 "was abandoned (its process is gone)" "$HK" --db app.db run --task all --archive arc
check "every killed run is marked abandoned" [ "$(q app.db "SELECT count(*) FROM housekeep_runs WHERE status = 'running'")" = 0 ]
check "three abandoned runs, one per kill" [ "$(q app.db "SELECT count(*) FROM housekeep_runs WHERE status = 'abandoned'")" = 3 ]
expect 0 "" "$HK" --db app.db --json history --limit 100
check "history shows them, with why" jq -e '[.runs[] | select(.status == "abandoned" and (.error | test("killed or crashed")))] | length == 3' out
expect 0 "" "$HK" --db app.db --json run --task conversations --task messages --task users --dry-run
check "nothing is left for the policy" [ "$(jq '[.tasks[].deleted[]] | add' out)" = 0 ]
check "foreign_key_check is clean" [ -z "$(q app.db "PRAGMA foreign_key_check")" ]

# Every archive back in, in any order: the original rows, exactly.
expect 0 "" "$HK" --db app.db restore $(ls arc/*.jsonl | sort -r)
check "restore gives back the original database row for row" \
  [ "$(table_dump app.db | md5sum)" = "$(table_dump original.db | md5sum)" ]
expect 0 "" "$HK" --db app.db --json restore arc/*.jsonl
check "restoring twice puts nothing back" [ "$(jq '[.files[].restored] | add' out)" = 0 ]

# Bad archive directories change nothing.
cp original.db fresh.db
before=$(md5sum <fresh.db)
expect 73 "does not exist" "$HK" --db fresh.db run --task all --archive no-such-dir
touch plain-file
expect 73 "is not a directory" "$HK" --db fresh.db run --task all --archive plain-file
check "a refused archive deletes nothing" [ "$(md5sum <fresh.db)" = "$before" ]
expect 65 "not a housekeep archive" "$HK" --db fresh.db restore plain-file
expect 66 "not found" "$HK" --db fresh.db restore arc/missing.jsonl

finish
