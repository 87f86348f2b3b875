#!/usr/bin/env bash
# Configured tasks: kind "expired" deletes exactly the expired rows (checked by plain SQL),
# the built-in tasks' kinds ("aged", "orphans") take tasks of their own,
# kind "exec" runs a command with a timeout (killed with its children), skips cleanly when
# its variables are unset, passes only the allowed environment; bad definitions exit 78.
. "$(dirname "$0")/lib.sh"

int=INTEGER
[ "$ENGINE" = sqlite ] || int=BIGINT
# ids TABLE [WHERE]: the ids of TABLE's rows, in order, joined by commas.
ids() { q "$1" "SELECT id FROM $2 ${3:-} ORDER BY id" | paste -sd,; }
APP=$(db app)
"$HK" --db "$APP" demo --rows 4000 -q
q "$APP" "CREATE TABLE sessions (id $int PRIMARY KEY, token TEXT, expires_at $int);
  CREATE TABLE session_events (id $int PRIMARY KEY, session_id $int REFERENCES sessions (id), what TEXT);
  CREATE INDEX session_events_session ON session_events (session_id);
  CREATE INDEX sessions_expires ON sessions (expires_at);"
now=$(date +%s)
q "$APP" "$(for i in $(seq 1 300); do
  # Half an hour off the 8-hour grid: no expiry lands within seconds of now, where the SQL
  # count and the run a moment later could disagree.
  echo "INSERT INTO sessions VALUES ($i, 't$i', $((now - 86400 * 30 + i * 86400 / 3 + 1800)));"
  echo "INSERT INTO session_events VALUES ($i, $i, 'login');"
done)"
q "$APP" "INSERT INTO sessions VALUES (1000, 'far', $((now + 86400 * 365 * 5)))"
ORIGINAL=$(copy_db "$APP" original)
q "$ORIGINAL" "SELECT id FROM messages" | sort >original-messages.txt

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

expected_messages=$(q "$APP" "SELECT count(*) FROM messages WHERE expires_at < $(ts "$(date -u '+%F %T')")")
expected_sessions=$(q "$APP" "SELECT count(*) FROM sessions WHERE expires_at < $(date +%s)")
expect 0 "" "$HK" --db "$APP" -c kinds.toml --json run --task expired --task old_sessions --dry-run
check "expired: dry run counts the expired messages ($expected_messages)" [ "$(jq '.tasks[] | select(.task == "expired") | .deleted.messages' out)" = "$expected_messages" ]
check "old_sessions: dry run counts the expired sessions ($expected_sessions)" [ "$(jq '.tasks[] | select(.task == "old_sessions") | .deleted.sessions' out)" = "$expected_sessions" ]
check "dry run changed nothing" [ "$(digest "$APP")" = "$(digest "$ORIGINAL")" ]
expect 0 "" "$HK" --db "$APP" -c kinds.toml run --task old_sessions --task expired --batch-size 7
check "expired: no expired message is left" [ "$(q "$APP" "SELECT count(*) FROM messages WHERE expires_at < $(ts "$(date -u -d '5 seconds ago' '+%F %T')")")" = 0 ]
q "$APP" "SELECT id FROM messages" | sort >messages-now.txt
comm -23 original-messages.txt messages-now.txt >messages-gone.txt
check "expired: exactly the expired messages went" [ "$(wc -l <messages-gone.txt)" -ge "$expected_messages" ]
q "$ORIGINAL" "SELECT id FROM messages WHERE expires_at IS NULL OR expires_at > $(ts "$(date -u '+%F %T')")" | sort >unexpired.txt
check "expired: nothing unexpired went" [ -z "$(comm -12 messages-gone.txt unexpired.txt)" ]
check "old_sessions: the sessions still valid remain" [ "$(ids "$APP" sessions)" = "$(ids "$ORIGINAL" sessions "WHERE expires_at >= $(date +%s)")" ]
check "old_sessions: their events went with them" [ "$(q "$APP" "SELECT count(*) FROM session_events WHERE session_id NOT IN (SELECT id FROM sessions)")" = 0 ]
check "old_sessions: events of valid sessions stay" [ "$(q "$APP" "SELECT count(*) FROM session_events")" = "$(q "$APP" "SELECT count(*) FROM sessions WHERE id <= 300")" ]
check "runs are recorded under the task's own name" [ "$(q "$APP" "SELECT count(*) FROM housekeep_runs WHERE task = 'old_sessions' AND status = 'ok'")" = 1 ]
expect 0 "" "$HK" --db "$APP" -c kinds.toml --json run --task all --dry-run
check "all runs the configured list, in its order" [ "$(jq -c '[.tasks[].task]' out)" = '["conversations","expired","old_sessions","messages","users","stats"]' ]

# exec
expect 0 "only_if_env" "$HK" --db "$APP" -c kinds.toml run --task upload
check "exec: skipped without its variables" grep -q "upload: skipped: BUCKET not set (only_if_env)" err
check "exec: a skip is no error" [ "$(grep -c "error" err)" = 0 ]
expect 0 "" "$HK" --db "$APP" -c kinds.toml --quiet run --task upload
check "exec: a skip prints nothing under --quiet" [ ! -s err ]
expect 0 "" "$HK" --db "$APP" -c kinds.toml --json run --task upload
check "exec: a skip's JSON has its reason and no error" jq -e '.ok and .tasks[0].status == "skipped" and (.tasks[0].reason | test("BUCKET")) and (.tasks[0] | has("error") | not)' out
check "exec: skipped is recorded" [ "$(q "$APP" "SELECT status FROM housekeep_runs WHERE task = 'upload' ORDER BY id DESC LIMIT 1")" = skipped ]
BUCKET=nightly SECRET=hunter2 "$HK" --db "$APP" -c kinds.toml --json run --task upload >out 2>err
check "exec: runs when its variables are set" [ "$(jq -r '.tasks[0].status' out)" = ok ]
check "exec: the allowed variable arrives" grep -q "uploading nightly" <(jq -r '.tasks[0].output' out)
check "exec: other variables do not" grep -q "secret=unset" <(jq -r '.tasks[0].output' out)
expect 0 "" "$HK" --db "$APP" -c kinds.toml --json history --task upload --limit 1
check "exec: its output is in the run record" grep -q "uploading nightly" <(jq -r '.runs[0].output' out)
expect 1 "'sh' exited 3: it broke" "$HK" --db "$APP" -c kinds.toml run --task fails
check "exec: the failure and its output are in the run record" [ "$(q "$APP" "SELECT count(*) FROM (SELECT error FROM housekeep_runs WHERE task = 'fails' ORDER BY id DESC LIMIT 1) r WHERE error LIKE '%exited 3%it broke%'")" = 1 ]
start=$(date +%s%N)
expect 75 "still running after 1s" "$HK" --db "$APP" -c kinds.toml run --task hangs
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
expect 0 "would delete $WORK/uploads/old.log" "$HK" --db "$APP" -c files.toml --json run --task old_uploads --dry-run
check "files: the dry run lists the nested file too" grep -q "would delete $WORK/uploads/sub/old2.log" err
check "files: the dry run counts 2 files" [ "$(jq '.tasks[0].stats.files' out)" = 2 ]
check "files: the dry run deletes nothing" [ -e uploads/old.log ] && [ -e uploads/sub/old2.log ]
expect 0 "" "$HK" --db "$APP" -c files.toml --json run --task old_uploads
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
expect 78 "must be an absolute path other than /" "$HK" --db "$APP" -c bad.toml run --task stats
printf '[tasks.f]\nkind = "files"\ndirectory = "///"\nolder_than = "1d"\n' >bad.toml
expect 78 "must be an absolute path other than /" "$HK" --db "$APP" -c bad.toml run --task stats
printf '[tasks.f]\nkind = "files"\ndirectory = "/tmp"\n' >bad.toml
expect 78 "needs an 'older_than'" "$HK" --db "$APP" -c bad.toml run --task stats
printf '[tasks.f]\nkind = "files"\ndirectory = "%s/missing"\nolder_than = "1d"\n' "$WORK" >bad.toml
expect 66 "does not exist" "$HK" --db "$APP" -c bad.toml run --task f

printf '[tasks.v]\nkind = "vacuum"\nmode = "everything"\n' >bad.toml
expect 78 "unknown mode 'everything'" "$HK" --db "$APP" -c bad.toml run --task stats

# Bad definitions: 78 with the place, nothing run.
bad() { printf '%s\n' "$@" >bad.toml; }
bad '[tasks.nothing]' 'table = "x"'
expect 78 "bad.toml:1:8: [tasks.nothing] needs a 'kind'" "$HK" --db "$APP" -c bad.toml run --task stats
bad '[tasks.x]' 'kind = "expird"' 'table = "t"'
expect 78 "did you mean 'expired'" "$HK" --db "$APP" -c bad.toml run --task stats
bad '[tasks.x]' 'kind = "exec"' 'command = []'
expect 78 "tasks.x.command: needs a program to run" "$HK" --db "$APP" -c bad.toml run --task stats
bad '[tasks.x]' 'kind = "expired"' 'table = "t; DROP TABLE users"'
expect 78 "is not a safe SQL identifier" "$HK" --db "$APP" -c bad.toml run --task stats
bad '[tasks]' 'all = ["conversations", "nope"]'
expect 78 "tasks.all: unknown task 'nope'" "$HK" --db "$APP" -c bad.toml run --task stats
bad '[jobs.j]' 'task = "upload"' 'schedule = "@daily"'
expect 78 "jobs.j.task: unknown task 'upload'" "$HK" --db "$APP" -c bad.toml run --task stats
bad '[tasks.gone]' 'kind = "expired"' 'table = "no_such_table"'
expect 65 "table 'no_such_table' does not exist" "$HK" --db "$APP" -c bad.toml run --task gone

# The kinds of the built-in tasks take more tasks: "aged" on the sessions' own time, with
# their events as children; "orphans" on the events whose session is gone. Each deletes what
# plain SQL names, and nothing of the built-in tables.
KINDS=$(copy_db "$ORIGINAL" kinds)
# (An expiry five years ahead is no plausible creation time: the aged purge would stop.)
q "$KINDS" "DELETE FROM sessions WHERE id = 1000; UPDATE sessions SET expires_at = expires_at - 100 * 86400; CREATE TABLE notes (id $int PRIMARY KEY, session_id $int, made_at TEXT);
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
want_sessions=$(q "$KINDS" "SELECT count(*) FROM sessions WHERE expires_at >= $(date +%s) - 90 * 86400")
users_before=$(q "$KINDS" "SELECT count(*) FROM users")
expect 0 "" "$HK" --db "$KINDS" -c rows.toml --json run --task old_tokens
check "aged: the sessions older than 90 days went, the rest stayed" [ "$(q "$KINDS" 'SELECT count(*) FROM sessions')" = "$want_sessions" ]
check "aged: their events went with them" [ "$(q "$KINDS" 'SELECT count(*) FROM session_events WHERE session_id NOT IN (SELECT id FROM sessions)')" = 0 ]
check "aged: the report names the task's table" [ "$(jq -r '.tasks[0].deleted | keys | join(",")' out)" = "session_events,sessions" ]
want_notes=$(ids "$KINDS" notes "WHERE session_id IN (SELECT id FROM sessions)")
expect 0 "" "$HK" --db "$KINDS" -c rows.toml run --task stray_notes
check "orphans: only the notes naming a session stay" [ "$(ids "$KINDS" notes)" = "$want_notes" ]
check "kinds: the built-in tables are untouched" [ "$(q "$KINDS" 'SELECT count(*) FROM users')" = "$users_before" ]
expect 0 "" "$HK" --db "$KINDS" -c rows.toml config show
check "config show: the task with its kind" grep -qx 'kind = "aged"' out
check "config show: and its kind's defaults" grep -qx 'time_format = "auto"' out
printf '[tasks.users]\nkind = "exec"\n' >bad.toml
expect 78 "bad.toml:2:8: tasks.users.kind: 'users' is a built-in task of kind 'inactive'" "$HK" --db "$APP" -c bad.toml run --task stats
printf '[tasks.users]\nkind = "inactive"\nolder_than = "3d"\n' >ok.toml
expect 0 "" "$HK" --db "$APP" -c ok.toml config show
check "a built-in task's section may name its own kind" grep -qx 'older_than = "3d"' out
printf '[tasks.x]\nkind = "orphans"\ntable = "notes"\n' >bad.toml
expect 78 "[tasks.x] needs a 'foreign_key'" "$HK" --db "$APP" -c bad.toml run --task stats
printf '[tasks.x]\nkind = "aged"\n' >bad.toml
expect 78 "[tasks.x] needs a 'table'" "$HK" --db "$APP" -c bad.toml run --task stats
printf '[tasks.x]\nkind = "stats"\nrecent = "0s"\n' >bad.toml
expect 78 "tasks.x.recent: must be more than 0" "$HK" --db "$APP" -c bad.toml run --task stats

# A foreign key of several columns into a purged table cannot be judged a column at a time:
# refused before anything is deleted (65), naming the key.
q "$KINDS" "CREATE TABLE shifts (day TEXT, slot INTEGER, at TEXT, PRIMARY KEY (day, slot));
  CREATE TABLE bookings (id $int PRIMARY KEY, day TEXT, slot INTEGER, FOREIGN KEY (day, slot) REFERENCES shifts (day, slot));
  INSERT INTO shifts VALUES ('2020-01-01', 1, '2020-01-01T00:00:00Z'), ('2020-01-02', 1, '2020-01-02T00:00:00Z');
  INSERT INTO bookings VALUES (1, '2020-01-01', 1);"
printf '[tasks.old_shifts]\nkind = "aged"\ntable = "shifts"\nid_column = "slot"\ntime_column = "at"\n' >shifts.toml
expect 65 "'bookings' references 'shifts' by a foreign key of 2 columns" "$HK" --db "$KINDS" -c shifts.toml run --task old_shifts
check "a key of several columns: nothing deleted" [ "$(q "$KINDS" 'SELECT count(*) FROM shifts')" = 2 ]

finish
