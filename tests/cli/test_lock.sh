#!/usr/bin/env bash
# One purge per database: a second run exits 75 naming the holder, or waits with --wait.
. "$(dirname "$0")/lib.sh"

"$HK" --db app.db demo --rows 20000 -q

# A slow purge: about 30 batches (its messages, then the conversations) with a 100ms pause between them.
"$HK" --db app.db run --task conversations --batch-size 500 --batch-time 0 --sleep 100ms -q >slow.out 2>slow.err &
slow=$!
for _ in $(seq 1 100); do
  grep -q '"pid"' app.db-housekeep.lock 2>/dev/null && break
  sleep 0.05
done
check "the running purge wrote its name into the lock file" grep -q "\"pid\":$slow" app.db-housekeep.lock

expect 75 "holds the purge lock" "$HK" --db app.db run --task all
check "75 names the holder's pid" grep -q "pid $slow on " err
check "75 says what it runs" grep -q "run --task conversations" err
check "75 suggests --wait" grep -q "hint: .*--wait" err
expect 75 "did not finish within --wait" "$HK" --db app.db run --task messages --wait=200ms
expect 0 "" "$HK" --db app.db run --task stats          # stats takes no lock
expect 0 "" "$HK" --db app.db run --task all --dry-run  # neither does a dry run
expect 0 "waiting for the purge lock" "$HK" --db app.db run --task messages --wait
wait "$slow"
check "the slow purge succeeded" [ $? -eq 0 ]
check "the waiting run started after the slow one finished" \
  [ "$(q app.db "SELECT (SELECT started_at FROM housekeep_runs WHERE task = 'messages') >= (SELECT finished_at FROM housekeep_runs WHERE task = 'conversations')")" = 1 ]
check "the lock file names nobody afterwards" [ ! -s app.db-housekeep.lock ]

# One database, one lock, whatever path names it: through a symbolic link, a relative path
# with "..", or a sqlite:// URL.
mkdir -p sub
ln -s ../app.db sub/link.db
for other in sub/link.db "sub/../app.db" "sqlite://$WORK/sub/link.db"; do
  "$HK" --db app.db demo --rows 20000 --force -q
  "$HK" --db app.db run --task conversations --batch-size 500 --batch-time 0 --sleep 100ms -q & slow=$!
  for _ in $(seq 1 100); do
    grep -q '"pid"' app.db-housekeep.lock 2>/dev/null && break
    sleep 0.05
  done
  expect 75 "holds the purge lock" "$HK" --db "$other" run --task messages
  check "no lock file beside the link" [ ! -e sub/link.db-housekeep.lock ]
  wait "$slow"
done

# Two identical runs started at once: exactly one purges, the other exits 75.
"$HK" --db app.db demo --rows 20000 --force -q
"$HK" --db app.db run --task conversations --batch-size 500 --batch-time 0 --sleep 50ms -q & a=$!
"$HK" --db app.db run --task conversations --batch-size 500 --batch-time 0 --sleep 50ms -q 2>/dev/null & b=$!
wait "$a"; ra=$?
wait "$b"; rb=$?
check "exit statuses $ra and $rb are 0 and 75" [ "$((ra + rb))" -eq 75 -a "$((ra * rb))" -eq 0 ]
check "exactly one run recorded" [ "$(q app.db "SELECT count(*) FROM housekeep_runs WHERE task = 'conversations'")" = 1 ]

# A killed purge leaves no stale lock (the kernel drops it) and a consistent database.
"$HK" --db app.db demo --rows 20000 --force -q
q app.db "ATTACH 'pairs.db' AS p; CREATE TABLE p.valid AS SELECT id, conversation_id FROM messages WHERE conversation_id IN (SELECT id FROM conversations)"
# Old conversations' messages go first (a walk of their own table), then the conversations.
old_rows="SELECT (SELECT count(*) FROM conversations WHERE created_at < datetime('now', '-30 days')) +
  (SELECT count(*) FROM messages WHERE conversation_id IN
    (SELECT id FROM conversations WHERE created_at < datetime('now', '-30 days')))"
old=$(q app.db "$old_rows")
"$HK" --db app.db run --task conversations --batch-size 20 --batch-time 0 --sleep 50ms -q & victim=$!
# Killed once its first batches went (a build with sanitizers takes longer to get there).
some_gone() { [ "$(q app.db "$old_rows")" -lt "$old" ]; }
wait_for 20 some_gone
kill -9 "$victim"; wait "$victim" 2>/dev/null
left=$(q app.db "$old_rows")
check "killed mid-purge ($left of $old rows of old conversations left)" [ "$left" -gt 0 -a "$left" -lt "$old" ]
check "integrity after kill -9" [ "$(q app.db 'PRAGMA integrity_check')" = ok ]
check "no message lost its conversation" \
  [ "$(q app.db "ATTACH 'pairs.db' AS p; SELECT count(*) FROM messages m JOIN p.valid v ON v.id = m.id WHERE m.conversation_id NOT IN (SELECT id FROM conversations)")" = 0 ]
expect 0 "" "$HK" --db app.db --json run --task conversations
check "the next run finishes the job" \
  [ "$(q app.db "SELECT count(*) FROM conversations WHERE created_at < datetime('now', '-30 days', '-1 minute')")" = 0 ]
finish
