#!/usr/bin/env bash
# Configured tasks: kind "expired" deletes exactly the expired rows (checked with sqlite3),
# the built-in tasks' kinds ("aged", "orphans") take tasks of their own,
# kind "exec" runs a command with a timeout (killed with its children), skips cleanly when
# its variables are unset, passes only the allowed environment; bad definitions exit 78.
. "$(dirname "$0")/lib.sh"

"$HK" --db app.db demo --rows 4000 -q
sqlite3 app.db "CREATE TABLE sessions (id INTEGER PRIMARY KEY, token TEXT, expires_at INTEGER);
  CREATE TABLE session_events (id INTEGER PRIMARY KEY, session_id INTEGER REFERENCES sessions (id), what TEXT);
  CREATE INDEX session_events_session ON session_events (session_id);
  CREATE INDEX sessions_expires ON sessions (expires_at);"
now=$(date +%s)
for i in $(seq 1 300); do
  # Half an hour off the 8-hour grid: no expiry lands within seconds of now, where the SQL
  # count and the run a moment later could disagree.
  echo "INSERT INTO sessions VALUES ($i, 't$i', $((now - 86400 * 30 + i * 86400 / 3 + 1800)));"
  echo "INSERT INTO session_events VALUES ($i, $i, 'login');"
done | sqlite3 app.db
sqlite3 app.db "INSERT INTO sessions VALUES (1000, 'far', $((now + 86400 * 365 * 5)))"
cp app.db original.db

cat >kinds.toml <<'TOML'
[tasks.expired]
table = "messages"
expires_column = "expires_at"

[tasks.old_sessions]
kind = "expired"
table = "sessions"
children = [ { table = "session_events", foreign_key = "session_id" } ]

[tasks.upload]
kind = "exec"
command = ["sh", "-c", "echo uploading $BUCKET; echo secret=${SECRET:-unset}; exit 0"]
env = ["BUCKET"]
only_if_env = ["BUCKET"]

[tasks.fails]
kind = "exec"
command = ["sh", "-c", "echo first; echo 'it broke' >&2; exit 3"]

[tasks.hangs]
kind = "exec"
command = "sleep 60 & echo $! > grandchild.pid; wait"
shell = true
timeout = "1s"

[tasks]
all = ["conversations", "expired", "old_sessions", "messages", "users", "stats"]
TOML

expected_messages=$(q app.db "SELECT count(*) FROM messages WHERE expires_at < strftime('%Y-%m-%d %H:%M:%S', 'now')")
expected_sessions=$(q app.db "SELECT count(*) FROM sessions WHERE expires_at < strftime('%s', 'now')")
expect 0 "" "$HK" --db app.db -c kinds.toml --json run --task expired --task old_sessions --dry-run
check "expired: dry run counts the expired messages ($expected_messages)" [ "$(jq '.tasks[] | select(.task == "expired") | .deleted.messages' out)" = "$expected_messages" ]
check "old_sessions: dry run counts the expired sessions ($expected_sessions)" [ "$(jq '.tasks[] | select(.task == "old_sessions") | .deleted.sessions' out)" = "$expected_sessions" ]
check "dry run changed nothing" cmp -s app.db original.db
expect 0 "" "$HK" --db app.db -c kinds.toml run --task old_sessions --task expired --batch-size 7
check "expired: no expired message is left" [ "$(q app.db "SELECT count(*) FROM messages WHERE expires_at < strftime('%Y-%m-%d %H:%M:%S', 'now', '-5 seconds')")" = 0 ]
check "expired: exactly the expired messages went" [ "$(q app.db "ATTACH 'original.db' AS o; SELECT count(*) FROM o.messages WHERE id NOT IN (SELECT id FROM messages)")" -ge "$expected_messages" ]
check "expired: nothing unexpired went" [ "$(q app.db "ATTACH 'original.db' AS o; SELECT count(*) FROM o.messages WHERE id NOT IN (SELECT id FROM messages) AND (expires_at IS NULL OR expires_at > strftime('%Y-%m-%d %H:%M:%S', 'now'))")" = 0 ]
check "old_sessions: the sessions still valid remain" [ "$(q app.db "SELECT group_concat(id) FROM (SELECT id FROM sessions ORDER BY id)")" = "$(q original.db "SELECT group_concat(id) FROM (SELECT id FROM sessions WHERE expires_at >= strftime('%s', 'now') ORDER BY id)")" ]
check "old_sessions: their events went with them" [ "$(q app.db "SELECT count(*) FROM session_events WHERE session_id NOT IN (SELECT id FROM sessions)")" = 0 ]
check "old_sessions: events of valid sessions stay" [ "$(q app.db "SELECT count(*) FROM session_events")" = "$(q app.db "SELECT count(*) FROM sessions WHERE id <= 300")" ]
check "runs are recorded under the task's own name" [ "$(q app.db "SELECT count(*) FROM housekeep_runs WHERE task = 'old_sessions' AND status = 'ok'")" = 1 ]
expect 0 "" "$HK" --db app.db -c kinds.toml --json run --task all --dry-run
check "all runs the configured list, in its order" [ "$(jq -c '[.tasks[].task]' out)" = '["conversations","expired","old_sessions","messages","users","stats"]' ]

# exec
expect 0 "only_if_env" "$HK" --db app.db -c kinds.toml run --task upload
check "exec: skipped without its variables" grep -q "upload: skipped: BUCKET not set (only_if_env)" err
check "exec: a skip is no error" [ "$(grep -c "error" err)" = 0 ]
expect 0 "" "$HK" --db app.db -c kinds.toml --quiet run --task upload
check "exec: a skip prints nothing under --quiet" [ ! -s err ]
expect 0 "" "$HK" --db app.db -c kinds.toml --json run --task upload
check "exec: a skip's JSON has its reason and no error" jq -e '.ok and .tasks[0].status == "skipped" and (.tasks[0].reason | test("BUCKET")) and (.tasks[0] | has("error") | not)' out
check "exec: skipped is recorded" [ "$(q app.db "SELECT status FROM housekeep_runs WHERE task = 'upload' ORDER BY id DESC LIMIT 1")" = skipped ]
BUCKET=nightly SECRET=hunter2 "$HK" --db app.db -c kinds.toml --json run --task upload >out 2>err
check "exec: runs when its variables are set" [ "$(jq -r '.tasks[0].status' out)" = ok ]
check "exec: the allowed variable arrives" grep -q "uploading nightly" <(jq -r '.tasks[0].output' out)
check "exec: other variables do not" grep -q "secret=unset" <(jq -r '.tasks[0].output' out)
expect 0 "" "$HK" --db app.db -c kinds.toml --json history --task upload --limit 1
check "exec: its output is in the run record" grep -q "uploading nightly" <(jq -r '.runs[0].output' out)
expect 1 "'sh' exited 3: it broke" "$HK" --db app.db -c kinds.toml run --task fails
check "exec: the failure and its output are in the run record" [ "$(q app.db "SELECT error LIKE '%exited 3%it broke%' FROM housekeep_runs WHERE task = 'fails' ORDER BY id DESC LIMIT 1")" = 1 ]
start=$(date +%s%N)
expect 75 "still running after 1s" "$HK" --db app.db -c kinds.toml run --task hangs
took=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
check "exec: killed at its timeout (took ${took}s)" awk -v t="$took" 'BEGIN { exit !(t < 4) }'
sleep 0.3
state=$(ps -o stat= -p "$(cat grandchild.pid)" 2>/dev/null)
check "exec: its children were killed too (state '$state')" sh -c "[ -z '$state' ] || [ '${state#Z}' != '$state' ]"

# files
mkdir -p uploads/sub outside/deep
for f in uploads/old.log uploads/new.log uploads/old.txt uploads/sub/old2.log uploads/.hidden.log outside/target.log outside/deep/inner.log; do
  echo data >"$f"
done
touch -d '20 days ago' uploads/old.log uploads/old.txt uploads/sub/old2.log uploads/.hidden.log outside/target.log outside/deep/inner.log
ln -s "$WORK/outside/target.log" uploads/link.log
ln -s "$WORK/outside/deep" uploads/linkdir
touch -h -d '20 days ago' uploads/link.log uploads/linkdir
cat >files.toml <<TOML
[tasks.old_uploads]
kind = "files"
directory = "$WORK/uploads/"
glob = "*.log"
older_than = "14d"
TOML
expect 0 "would delete $WORK/uploads/old.log" "$HK" --db app.db -c files.toml --json run --task old_uploads --dry-run
check "files: the dry run lists the nested file too" grep -q "would delete $WORK/uploads/sub/old2.log" err
check "files: the dry run counts 2 files" [ "$(jq '.tasks[0].stats.files' out)" = 2 ]
check "files: the dry run deletes nothing" [ -e uploads/old.log ] && [ -e uploads/sub/old2.log ]
expect 0 "" "$HK" --db app.db -c files.toml --json run --task old_uploads
check "files: the old matching files went" [ ! -e uploads/old.log ] && [ ! -e uploads/sub/old2.log ]
check "files: bytes freed are reported" [ "$(jq '.tasks[0].stats.bytes' out)" = 10 ]
check "files: a new file stays" [ -e uploads/new.log ]
check "files: a file the glob does not match stays" [ -e uploads/old.txt ]
check "files: a dot file is not matched by *" [ -e uploads/.hidden.log ]
check "files: a symbolic link stays" [ -L uploads/link.log ]
check "files: a link's target outside is untouched" [ -e outside/target.log ]
check "files: a linked directory is not walked" [ -e outside/deep/inner.log ]
check "files: the directories stay" [ -d uploads ] && [ -d uploads/sub ]
printf '[tasks.f]\nkind = "files"\ndirectory = "uploads"\nolder_than = "1d"\n' >bad.toml
expect 78 "must be an absolute path other than /" "$HK" --db app.db -c bad.toml run --task stats
printf '[tasks.f]\nkind = "files"\ndirectory = "///"\nolder_than = "1d"\n' >bad.toml
expect 78 "must be an absolute path other than /" "$HK" --db app.db -c bad.toml run --task stats
printf '[tasks.f]\nkind = "files"\ndirectory = "/tmp"\n' >bad.toml
expect 78 "needs an 'older_than'" "$HK" --db app.db -c bad.toml run --task stats
printf '[tasks.f]\nkind = "files"\ndirectory = "%s/missing"\nolder_than = "1d"\n' "$WORK" >bad.toml
expect 66 "does not exist" "$HK" --db app.db -c bad.toml run --task f

# backup: a consistent copy while another process writes, verified, private; retention
# keeps the newest keep_last and anything younger than keep_days, and ignores foreign files.
"$HK" --db big.db demo --rows 100000 -q
mkdir backups
stamp() { date -u -d "$1" +%Y%m%dT%H%M%SZ; }
for age in '40 days ago' '35 days ago' '29 days ago'; do echo old >"backups/big-$(stamp "$age").db"; done
for foreign in notes.db "big-20200101T000000Z.db.bak" "other-20200101T000000Z.db" "big-2020.db"; do echo keep >"backups/$foreign"; done
cat >backup.toml <<TOML
[tasks.backup]
directory = "$WORK/backups"
keep_days = 30
keep_last = 2
TOML
python3 - big.db <<'PY2' &
import os, sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
while not os.path.exists('writer.stop'):
    con.execute("BEGIN IMMEDIATE")
    for _ in range(2):
        con.execute("INSERT INTO messages (conversation_id, role, content, created_at) VALUES (NULL, 'pair', 'x', datetime('now'))")
    con.execute("COMMIT")
    # Like an application, not back to back: a writer that never lets go starves every
    # reader past its busy timeout (SQLite's readers wait behind a pending commit).
    time.sleep(0.002)
PY2
writer=$!
sleep 0.3
expect 0 "integrity check ok" "$HK" --db big.db -c backup.toml --json run --task backup
touch writer.stop
wait "$writer"
made=$(jq -r '.tasks[0].output' out)
check "backup: named <db>-<UTC time>.db ($made)" grep -qE "/backups/big-[0-9]{8}T[0-9]{6}Z\.db$" <<<"$made"
check "backup: mode 600" [ "$(stat -c %a "$made")" = 600 ]
check "backup: passes integrity_check" [ "$(q "$made" "PRAGMA integrity_check")" = ok ]
check "backup: a consistent snapshot (the writer's pairs are whole)" [ $(( $(q "$made" "SELECT count(*) FROM messages WHERE role = 'pair'") % 2 )) = 0 ]
check "backup: the writer really wrote meanwhile" [ "$(q big.db "SELECT count(*) FROM messages WHERE role = 'pair'")" -gt 0 ]
check "backup: holds the demo rows" [ "$(q "$made" "SELECT count(*) FROM messages WHERE role <> 'pair'")" = 100000 ]
check "backup: no partial file left" [ -z "$(ls -A backups | grep partial)" ]
check "retention: the 29-day-old backup stays (younger than keep_days)" [ "$(ls backups | grep -c "^big-$(stamp '29 days ago' | cut -c1-8)T.*Z\.db$")" = 1 ]
check "retention: kept and deleted counted" [ "$(jq -c '[.tasks[0].stats.backups_kept, .tasks[0].stats.backups_deleted]' out)" = "[2,2]" ]
check "retention: backups past keep_days went" [ "$(ls backups | grep -cE '^big-[0-9]{8}T[0-9]{6}Z\.db$')" = 2 ]
for foreign in notes.db "big-20200101T000000Z.db.bak" "other-20200101T000000Z.db" "big-2020.db"; do
  check "retention: foreign file $foreign untouched" [ -e "backups/$foreign" ]
done
mkdir lonely
printf '[tasks.backup]\ndirectory = "%s/lonely"\nkeep_days = 1\nkeep_last = 1\n' "$WORK" >lonely.toml
expect 0 "" "$HK" --db app.db -c lonely.toml run --task backup
check "retention: the only backup is never deleted" [ "$(ls lonely | wc -l)" = 1 ]
printf '[tasks.backup]\ndirectory = "%s/missing"\n' "$WORK" >bad.toml
expect 73 "does not exist" "$HK" --db app.db -c bad.toml run --task backup
printf '[tasks.backup]\ndirectory = "backups"\n' >bad.toml
expect 78 "must be an absolute path other than /" "$HK" --db app.db -c bad.toml run --task stats

# vacuum: space back after a large purge, sizes before and after reported.
cp big.db vac.db
"$HK" --db vac.db run --task conversations --allow-empty --sleep 0 -q
printf '[tasks.compact]\nkind = "vacuum"\nmode = "full"\n\n[tasks.inc]\nkind = "vacuum"\nmode = "incremental"\n\n[tasks.vacuum]\n' >vacuum.toml
size_before=$(stat -c %s vac.db)
expect 0 "would run full" "$HK" --db vac.db -c vacuum.toml -v run --task compact --dry-run
check "vacuum: a dry run changes nothing" [ "$(stat -c %s vac.db)" = "$size_before" ]
expect 0 "" "$HK" --db vac.db -c vacuum.toml --json run --task compact
check "vacuum full: reports the size before ($size_before)" [ "$(jq '.tasks[0].stats.bytes_before' out)" = "$size_before" ]
check "vacuum full: the file shrank to what it reports" [ "$(stat -c %s vac.db)" = "$(jq '.tasks[0].stats.bytes_after' out)" ] && [ "$(stat -c %s vac.db)" -lt "$size_before" ]
check "vacuum full: integrity ok" [ "$(q vac.db "PRAGMA integrity_check")" = ok ]
expect 0 "auto_vacuum is not INCREMENTAL" "$HK" --db vac.db -c vacuum.toml run --task inc
expect 0 "" "$HK" --db vac.db -c vacuum.toml run --task vacuum
printf '[tasks.v]\nkind = "vacuum"\nmode = "everything"\n' >bad.toml
expect 78 "unknown mode 'everything'" "$HK" --db app.db -c bad.toml run --task stats

# Bad definitions: 78 with the place, nothing run.
bad() { printf '%s\n' "$@" >bad.toml; }
bad '[tasks.nothing]' 'table = "x"'
expect 78 "bad.toml:1:8: [tasks.nothing] needs a 'kind'" "$HK" --db app.db -c bad.toml run --task stats
bad '[tasks.x]' 'kind = "expird"' 'table = "t"'
expect 78 "did you mean 'expired'" "$HK" --db app.db -c bad.toml run --task stats
bad '[tasks.x]' 'kind = "exec"' 'command = []'
expect 78 "tasks.x.command: needs a program to run" "$HK" --db app.db -c bad.toml run --task stats
bad '[tasks.x]' 'kind = "expired"' 'table = "t; DROP TABLE users"'
expect 78 "is not a safe SQL identifier" "$HK" --db app.db -c bad.toml run --task stats
bad '[tasks]' 'all = ["conversations", "nope"]'
expect 78 "tasks.all: unknown task 'nope'" "$HK" --db app.db -c bad.toml run --task stats
bad '[jobs.j]' 'task = "upload"' 'schedule = "@daily"'
expect 78 "jobs.j.task: unknown task 'upload'" "$HK" --db app.db -c bad.toml run --task stats
bad '[tasks.gone]' 'kind = "expired"' 'table = "no_such_table"'
expect 65 "table 'no_such_table' does not exist" "$HK" --db app.db -c bad.toml run --task gone

# The kinds of the built-in tasks take more tasks: "aged" on the sessions' own time, with
# their events as children; "orphans" on the events whose session is gone. Each deletes what
# plain SQL names, and nothing of the built-in tables.
cp original.db kinds.db
# (An expiry five years ahead is no plausible creation time: the aged purge would stop.)
sqlite3 kinds.db "DELETE FROM sessions WHERE id = 1000; UPDATE sessions SET expires_at = expires_at - 100 * 86400; CREATE TABLE notes (id INTEGER PRIMARY KEY, session_id INTEGER, made_at TEXT);
  INSERT INTO notes VALUES (1, 295, '2020-01-01T00:00:00Z'), (2, 99999, '2020-01-01T00:00:00Z'),
    (3, NULL, '2020-01-01T00:00:00Z'), (4, 300, '2030-01-01T00:00:00Z');"
cat >rows.toml <<'TOML'
[tasks.old_tokens]
kind = "aged"
table = "sessions"
time_column = "expires_at"
older_than = "90d"
children = [ { table = "session_events", foreign_key = "session_id" } ]

[tasks.stray_notes]
kind = "orphans"
table = "notes"
foreign_key = "session_id"
parent = "sessions"
TOML
want_sessions=$(sqlite3 kinds.db "SELECT count(*) FROM sessions WHERE expires_at >= $(date +%s) - 90 * 86400")
users_before=$(sqlite3 kinds.db "SELECT count(*) FROM users")
expect 0 "" "$HK" --db kinds.db -c rows.toml --json run --task old_tokens
check "aged: the sessions older than 90 days went, the rest stayed" [ "$(sqlite3 kinds.db 'SELECT count(*) FROM sessions')" = "$want_sessions" ]
check "aged: their events went with them" [ "$(sqlite3 kinds.db 'SELECT count(*) FROM session_events WHERE session_id NOT IN (SELECT id FROM sessions)')" = 0 ]
check "aged: the report names the task's table" [ "$(jq -r '.tasks[0].deleted | keys | join(",")' out)" = "session_events,sessions" ]
want_notes=$(sqlite3 kinds.db "SELECT group_concat(id) FROM (SELECT id FROM notes WHERE session_id IN (SELECT id FROM sessions) ORDER BY id)")
expect 0 "" "$HK" --db kinds.db -c rows.toml run --task stray_notes
check "orphans: only the notes naming a session stay" [ "$(sqlite3 kinds.db 'SELECT group_concat(id) FROM (SELECT id FROM notes ORDER BY id)')" = "$want_notes" ]
check "kinds: the built-in tables are untouched" [ "$(sqlite3 kinds.db 'SELECT count(*) FROM users')" = "$users_before" ]
expect 0 "" "$HK" --db kinds.db -c rows.toml config show
check "config show: the task with its kind" grep -qx 'kind = "aged"' out
check "config show: and its kind's defaults" grep -qx 'time_format = "auto"' out
printf '[tasks.users]\nkind = "exec"\n' >bad.toml
expect 78 "bad.toml:2:8: tasks.users.kind: 'users' is a built-in task of kind 'inactive'" "$HK" --db app.db -c bad.toml run --task stats
printf '[tasks.users]\nkind = "inactive"\nolder_than = "3d"\n' >ok.toml
expect 0 "" "$HK" --db app.db -c ok.toml config show
check "a built-in task's section may name its own kind" grep -qx 'older_than = "3d"' out
printf '[tasks.x]\nkind = "orphans"\ntable = "notes"\n' >bad.toml
expect 78 "[tasks.x] needs a 'foreign_key'" "$HK" --db app.db -c bad.toml run --task stats
printf '[tasks.x]\nkind = "aged"\n' >bad.toml
expect 78 "[tasks.x] needs a 'table'" "$HK" --db app.db -c bad.toml run --task stats
printf '[tasks.x]\nkind = "stats"\nrecent = "0s"\n' >bad.toml
expect 78 "tasks.x.recent: must be more than 0" "$HK" --db app.db -c bad.toml run --task stats

# A foreign key of several columns into a purged table cannot be judged a column at a time:
# refused before anything is deleted (65), naming the key.
sqlite3 kinds.db "CREATE TABLE shifts (day TEXT, slot INTEGER, at TEXT, PRIMARY KEY (day, slot));
  CREATE TABLE bookings (id INTEGER PRIMARY KEY, day TEXT, slot INTEGER, FOREIGN KEY (day, slot) REFERENCES shifts (day, slot));
  INSERT INTO shifts VALUES ('2020-01-01', 1, '2020-01-01T00:00:00Z'), ('2020-01-02', 1, '2020-01-02T00:00:00Z');
  INSERT INTO bookings VALUES (1, '2020-01-01', 1);"
printf '[tasks.old_shifts]\nkind = "aged"\ntable = "shifts"\nid_column = "slot"\ntime_column = "at"\n' >shifts.toml
expect 65 "'bookings' references 'shifts' by a foreign key of 2 columns" "$HK" --db kinds.db -c shifts.toml run --task old_shifts
check "a key of several columns: nothing deleted" [ "$(sqlite3 kinds.db 'SELECT count(*) FROM shifts')" = 2 ]

finish
