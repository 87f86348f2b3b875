#!/usr/bin/env bash
# The main job on a demo database: dry run first (byte-identical file, exact counts), then
# the real run, checked against independent queries (sqlite3, or psql on PostgreSQL).
. "$(dirname "$0")/lib.sh"

APP=$(db app)
"$HK" --db "$APP" demo --rows 20000 --layout "$LAYOUT" -q
for t in users conversations messages; do eval "before_$t=$(q "$APP" "SELECT count(*) FROM $t")"; done
bytes=$(digest "$APP")

expect 0 "" "$HK" --db "$APP" --json run --task all --dry-run
cp out dry.json
check "dry run leaves the database unchanged" [ "$(digest "$APP")" = "$bytes" ]
check "dry run json is ok" jq -e '.ok and .dry_run' dry.json
[ ! -s app.db-housekeep.lock ] || fail "dry run took the purge lock"

expect 0 "" "$HK" --db "$APP" --json run --task all
cp out real.json
check "real run json is ok" jq -e '.ok and (.dry_run | not)' real.json
for task in conversations messages users; do
  dry=$(jq -c ".tasks[] | select(.task == \"$task\") | .deleted" dry.json)
  real=$(jq -c ".tasks[] | select(.task == \"$task\") | .deleted" real.json)
  check "$task: dry run $dry equals real run $real" [ "$dry" = "$real" ]
done
check "something was deleted from each table" jq -e '[.tasks[0:3][].deleted[]] | add > 0' real.json

# Deleted counts add up to what disappeared, per table.
for t in users conversations messages; do
  after=$(q "$APP" "SELECT count(*) FROM $t")
  eval "before=\$before_$t"
  reported=$(jq "[.tasks[].deleted // {} | .$t // 0] | add" real.json)
  check "$t: $before - $after = $reported" [ $((before - after)) -eq "$reported" ]
done

# Independent checks of each policy, bounded by the run's own start and end.
started=$(jq -r .started_at real.json | sed 's/T/ /; s/\..*//')
finished=$(jq -r .finished_at real.json | sed 's/T/ /; s/Z$//; s/\..*//')
check "no conversation older than 30 days is left" \
  [ "$(q "$APP" "SELECT count(*) FROM conversations WHERE created_at < $(days_before "$started" 30)")" = 0 ]
check "no orphan message is left" \
  [ "$(q "$APP" "SELECT count(*) FROM messages WHERE conversation_id IS NULL OR conversation_id NOT IN (SELECT id FROM conversations)")" = 0 ]
check "no never-activated user older than 7 days is left" \
  [ "$(q "$APP" "SELECT count(*) FROM users WHERE NOT is_active AND date_joined < $(days_before "$started" 7)")" = 0 ]
check "recent conversations all stay" \
  [ "$(q "$APP" "SELECT count(*) FROM conversations WHERE created_at >= $(days_before "$finished" 30) AND user_id IN (SELECT id FROM users)")" -gt 0 ]
check "no conversation without its user" \
  [ "$(q "$APP" "SELECT count(*) FROM conversations WHERE user_id NOT IN (SELECT id FROM users)")" = 0 ]
if [ "$ENGINE" = sqlite ]; then
  check "foreign keys intact" [ -z "$(q "$APP" 'PRAGMA foreign_key_check')" ]
  check "integrity ok" [ "$(q "$APP" 'PRAGMA integrity_check')" = ok ]
  check "journal mode untouched" [ "$(q "$APP" 'PRAGMA journal_mode')" = delete ]
fi

# History: one row per task of the real run, none for the dry run.
check "four runs recorded" [ "$(q "$APP" 'SELECT count(*) FROM housekeep_runs')" = 4 ]
check "recorded counts match" [ "$(q "$APP" "SELECT $(json_int deleted conversations) FROM housekeep_runs WHERE task = 'conversations'")" = "$(jq '.tasks[0].deleted.conversations' real.json)" ]
expect 0 "" "$HK" --db "$APP" history
check "history lists the runs" grep -q "conversations  ok" out
expect 0 "" "$HK" --db "$APP" --json history --task users
check "history json" jq -e '.ok and (.runs | length == 1) and .runs[0].task == "users"' out

# A second run has nothing left to do, and --quiet prints nothing at all.
expect 0 "" "$HK" --db "$APP" run --task all --quiet
check "quiet: empty stdout" [ ! -s out ]
check "quiet: empty stderr" [ ! -s err ]
expect 0 "" "$HK" --db "$APP" --json run --task conversations --task messages --task users
check "second run deletes nothing" jq -e '[.tasks[].deleted[]] | add == 0' out

# --older-than widens the policy; small batches report their count.
expect 0 "" "$HK" --db "$APP" --json run --task conversations --older-than 10d --batch-size 7 --batch-time 0
n=$(jq '.tasks[0].deleted.conversations' out)
check "older-than 10d deleted more" [ "$n" -gt 0 ]
m=$(jq '.tasks[0].deleted.messages' out)
# On SQLite their messages lie densely in the key range: a walk of their own goes first, in
# batches too. PostgreSQL has no such sweeps: each batch of conversations takes its messages.
batches=$(((m + 6) / 7 + (n + 6) / 7))
[ "$ENGINE" = sqlite ] || batches=$(((n + 6) / 7))
check "batches of 7" [ "$(jq '.tasks[0].batches' out)" -eq "$batches" ]
check "none older than 10 days" \
  [ "$(q "$APP" "SELECT count(*) FROM conversations WHERE created_at < $(days_before "$started" 10)")" = 0 ]

# Guards refuse before the first delete: the database is unchanged.
GUARD=$(db guard)
"$HK" --db "$GUARD" demo --rows 3000 -q
sum=$(digest "$GUARD")
would=$("$HK" --db "$GUARD" --json run --task all --dry-run 2>/dev/null | jq '[.tasks[].deleted // {} | .[]] | add')
thousands() { echo "$1" | sed -E ':a;s/^([0-9]+)([0-9]{3})/\1,\2/;ta'; }
expect 3 "more than max_delete $(thousands $((would - 1)))" "$HK" --db "$GUARD" run --task all --max-delete $((would - 1))
check "max-delete: nothing written" [ "$(digest "$GUARD")" = "$sum" ]
check "max-delete: the message gives the dry run's count" grep -q "would delete $(thousands "$would") rows" err
printf '[defaults]\nmax_delete = 10\n' >guard.toml
expect 3 "more than max_delete 10" "$HK" --config guard.toml --db "$GUARD" run --task conversations
expect 0 "" "$HK" --config guard.toml --db "$GUARD" --json run --task all --dry-run
check "dry runs are not refused" jq -e '.ok' out
expect 3 "would delete every row of 'conversations'" "$HK" --db "$GUARD" run --task conversations --older-than 1s
check "emptying: nothing written" [ "$(digest "$GUARD")" = "$sum" ]
check "emptying: the hint names --allow-empty" grep -q -- "--allow-empty" err
expect 0 "" "$HK" --db "$GUARD" run --task all --max-delete "$would"
check "at the limit the run goes ahead" [ "$(q "$GUARD" "SELECT count(*) FROM housekeep_runs WHERE status = 'ok'")" = 4 ]
expect 0 "" "$HK" --db "$GUARD" run --task conversations --older-than 1s --allow-empty
check "--allow-empty empties the table" [ "$(q "$GUARD" "SELECT count(*) FROM conversations")" = 0 ]
expect 64 "--max-delete 0 must be at least 1" "$HK" --db "$GUARD" run --task all --max-delete 0
# allow_empty in the file: a job, or a task, whose policy legitimately drains a table.
DRAIN=$(db drain)
"$HK" --db "$DRAIN" demo --rows 600 -q
cat >drain.toml <<'EOF'
[tasks.conversations]
older_than = "1s"

[jobs.drain]
task = "conversations"
schedule = "0 4 * * *"

[jobs.drain_ok]
task = "conversations"
schedule = "0 4 * * *"
allow_empty = true
EOF
sum=$(digest "$DRAIN")
expect 3 "would delete every row of 'conversations'" "$HK" --config drain.toml --db "$DRAIN" run --job drain
check "job without allow_empty: nothing written" [ "$(digest "$DRAIN")" = "$sum" ]
check "job without allow_empty: the hint names the job's key" grep -q "set allow_empty = true in \[jobs.drain\]" err
expect 0 "" "$HK" --config drain.toml --db "$DRAIN" run --job drain_ok
check "job with allow_empty drains the table" [ "$(q "$DRAIN" "SELECT count(*) FROM conversations")" = 0 ]
DRAIN2=$(db drain2)
"$HK" --db "$DRAIN2" demo --rows 600 -q
printf '[tasks.conversations]\nolder_than = "1s"\nallow_empty = true\n' >drain2.toml
expect 0 "" "$HK" --config drain2.toml --db "$DRAIN2" run --task conversations
check "task with allow_empty drains the table" [ "$(q "$DRAIN2" "SELECT count(*) FROM conversations")" = 0 ]
expect 0 "" "$HK" --config drain2.toml config show
check "config show lists allow_empty" grep -q "^allow_empty = true" out
# A schema-qualified table is the same table to every task: `main.conversations` (on
# PostgreSQL `public.conversations`) for one task and `conversations` in another's cascade
# purge exactly what the plain names purge.
PLAIN=$(db plain)
"$HK" --db "$PLAIN" demo --rows 3000 -q
QUALIFIED=$(copy_db "$PLAIN" qualified)
schema=main
[ "$ENGINE" = sqlite ] || schema=public
printf '[tasks.conversations]\ntable = "%s.conversations"\n' "$schema" >qualified.toml
expect 0 "" "$HK" --db "$PLAIN" --json run --task all
plain_counts=$(jq -c '[.tasks[0:3][].deleted | to_entries[] | .value]' out)
expect 0 "" "$HK" -c qualified.toml --db "$QUALIFIED" --json run --task all
check "the same rows went: $plain_counts" [ "$(jq -c '[.tasks[0:3][].deleted | to_entries[] | .value]' out)" = "$plain_counts" ]
check "the same database afterwards" [ "$(data_digest "$QUALIFIED")" = "$(data_digest "$PLAIN")" ]
finish
