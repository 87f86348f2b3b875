#!/usr/bin/env bash
# Bad input: the exit status of SPEC §3, one clear error line, and nothing changed.
. "$(dirname "$0")/lib.sh"

APP=$(db app)
"$HK" --db "$APP" demo --rows 3000 -q
before=$(data_digest "$APP")
bytes=$(digest "$APP")
# unchanged: no application row changed. untouched: the file is byte-identical (errors found
# before the database is even opened, or that stop a run before it records anything).
unchanged() {
  checks=$((checks + 1))
  [ "$(data_digest "$APP")" = "$before" ] || fail "app.db rows changed after: $*"
  [ ! -s "$APP"-housekeep.lock ] || fail "lock file still names a holder after: $*"
  bytes=$(digest "$APP")
}
untouched() {
  [ "$(digest "$APP")" = "$bytes" ] || fail "app.db bytes changed after: $*"
  unchanged "$@"
}
db=(--db "$APP")
conf() { printf '%s\n' "$@" > bad.toml; }

# Usage errors (64)
expect 64 "unknown task 'conversation'" "$HK" "${db[@]}" run --task conversation; untouched 1
grep -qF "hint: did you mean 'conversations'?" err || fail "no did-you-mean hint"
expect 64 "--task is required" "$HK" "${db[@]}" run; untouched 2
expect 64 "invalid duration '30'" "$HK" "${db[@]}" run --task all --older-than 30; untouched 3
expect 64 "invalid duration '5x'" "$HK" "${db[@]}" run --task all --older-than 5x; untouched 4
expect 64 "--frobnicate" "$HK" "${db[@]}" run --task all --frobnicate; untouched 5
expect 64 "unknown command 'frob'" "$HK" "${db[@]}" frob; untouched 6
# Values out of range are usage errors, not silently accepted.
expect 64 "invalid time '2026-01-01T00:00:00+25:00'" "$HK" cron next '0 2 * * *' --from 2026-01-01T00:00:00+25:00
expect 64 "port '99999' is not a number from 1 to 65535" "$HK" "${db[@]}" run --task stats --statsd localhost:99999; untouched statsd-port
# --json always gets its document, usage errors included.
expect 64 "unknown command 'frob'" "$HK" --json frob
check "--json: an unknown command's error document" jq -e '.ok == false and .error.code == 64' out
expect 64 "--task: 1 required NAME missing" "$HK" "${db[@]}" --json run --task
check "--json: a missing value's error document" jq -e '.ok == false and .error.kind == "usage"' out

# An empty value is an error, never "not given": `--db "$DB"` with DB unset must not fall back
# to $DATABASE_URL (another database), nor --config "" to the built-in policy.
OTHER=$(copy_db "$APP" other)
other=$(data_digest "$OTHER")
DATABASE_URL="$OTHER" expect 64 "--db: an empty value is not allowed" "$HK" --db "" run --task all
check "the fallback database was not touched" [ "$(data_digest "$OTHER")" = "$other" ]
untouched empty-db
for option in --older-than --timeout --batch-time --sleep --archive --batch-size --max-delete; do
  expect 64 "$option: an empty value is not allowed" "$HK" "${db[@]}" run --task all "$option" ""; untouched "empty $option"
done
# Durations stay inside 64-bit milliseconds, and within what each consumer can hold.
expect 64 "invalid duration '10000w': it is longer than 100 years" "$HK" "${db[@]}" run --task all --older-than 10000w; untouched long-older-than
expect 64 "it is longer than 100 years" "$HK" cron next '@every 9223372036854775807ms'
conf '[database]' 'busy_timeout = "25d"'
expect 78 "bad.toml:2:16: database.busy_timeout: 25d is too long" "$HK" "${db[@]}" -c bad.toml run --task all; untouched busy-wrap
expect 64 "--config: an empty value is not allowed" "$HK" "${db[@]}" --config "" run --task all; untouched empty-config
conf '[database]' 'url = ""'
expect 78 "bad.toml:2:7: database.url is empty" "$HK" -c bad.toml run --task all; untouched empty-url
conf '[database]' 'url = "sqlite://app.db?mode=bogus"'
expect 78 "bad.toml:2:7: database.url: database URL 'sqlite://app.db?mode=bogus': mode must be 'ro' or 'rw'" "$HK" -c bad.toml config check
expect 78 "bad.toml:2:7" "$HK" -c bad.toml run --task all; untouched url-mode
conf '[database]' 'url = "sqlite://app.db?cache=shared"'
expect 78 "bad.toml:2:7: database.url: database URL 'sqlite://app.db?cache=shared': unknown parameter 'cache'" "$HK" -c bad.toml config check
conf '[database]' 'url = "mysql://db/app"'
expect 78 "bad.toml:2:7: database.url: unsupported database URL scheme 'mysql'" "$HK" -c bad.toml run --task all; untouched url-scheme
expect 64 "mode must be 'ro' or 'rw', not 'bogus'" "$HK" --db "sqlite://app.db?mode=bogus" run --task all; untouched url-mode-flag
if [ "$ENGINE" = sqlite ]; then # a file of the wrong kind
# A database of the wrong kind: one error, and the file is left as it was (a 0-byte file
# never becomes a SQLite database).
: >empty.db
expect 65 "database 'empty.db' has none of the tables this run works on (conversations, messages, users)" "$HK" --db empty.db run --task all
check "empty file: still 0 bytes" [ ! -s empty.db ]
sqlite3 foreign.db "CREATE TABLE invoices (id INTEGER PRIMARY KEY)"
foreign=$(digest foreign.db)
expect 65 "is it the right database?" "$HK" --db foreign.db --json run --task all
check "foreign schema: one error in the JSON document" jq -e '.ok == false and .error.code == 65' out
check "foreign schema: file untouched" [ "$(digest foreign.db)" = "$foreign" ]
expect 65 "database '/dev/null' has none of the tables" "$HK" --db /dev/null run --task all
# One table missing: the task that needs it names itself, and the section to check.
sqlite3 foreign.db "CREATE TABLE users (id INTEGER PRIMARY KEY, is_active INTEGER, date_joined TEXT)"
expect 65 "stats: table 'conversations' does not exist" "$HK" --db foreign.db run --task stats
check "the hint names the section" grep -qF "hint: check the table names under [tasks.conversations]" err
fi
# Echoed values never split the error line nor bury it: control characters escaped, long
# values cut. (expect checks the one error line.)
expect 66 "cannot open database 'a\\nb.db'" "$HK" --db "$(printf 'a\nb.db')" run --task all
expect 64 "invalid cron expression '0 0\\n* * *'" "$HK" cron next "$(printf '0 0\n* * *')"
long=$(head -c 102400 /dev/zero | tr '\0' x)  # 100 KiB: one argument may hold at most 128 KiB
expect 64 "…[102,402 bytes]" "$HK" "${db[@]}" --json run --task "$long"; untouched long-task
check "a 100 KiB value: the error line is short" [ "$(wc -c <err)" -lt 1000 ]
check "a 100 KiB value: cut in the JSON error too" jq -e '(.error.message | length) < 400' out
printf '[tasks.users]\ntable = "%s"\n' "$(head -c 1048576 /dev/zero | tr '\0' x)" >bad.toml
expect 65 "does not exist" "$HK" "${db[@]}" -c bad.toml run --task users; unchanged long-identifier
check "a 1 MiB identifier: the error line is short" [ "$(wc -c <err)" -lt 1000 ]
expect 64 "subcommand" "$HK" "${db[@]}"; untouched 7
expect 64 "--batch-size 0 is out of range 1-10000" "$HK" "${db[@]}" run --task all --batch-size 0; untouched 8
expect 64 "--batch-size 2000000 is out of range" "$HK" "${db[@]}" run --task all --batch-size 2000000; untouched 9
expect 64 "batch-size" "$HK" "${db[@]}" run --task all --batch-size many; untouched 10
expect 64 "unsupported database URL scheme 'mysql'" "$HK" --db mysql://u:p@h/app run --task all
expect 69 "cannot connect" "$HK" --db postgresql://app:s3cret@db.invalid/app run --task stats
grep -q s3cret err && fail "password printed: $(cat err)"
expect 64 "log-format" "$HK" "${db[@]}" --log-format xml run --task stats; untouched 13
expect 64 "unknown task 'everything'" "$HK" "${db[@]}" history --task everything
expect 64 "invalid duration 'soon'" "$HK" "${db[@]}" run --task all --wait=soon; untouched 15
expect 64 "rows" "$HK" --db fresh.db demo --rows 0
[ ! -e fresh.db ] || fail "demo --rows 0 created a file"
expect 64 "mode must be 'ro' or 'rw'" "$HK" --db "sqlite://app.db?mode=rx" run --task all; untouched 17

# Input not found (66): never created silently
expect 66 "cannot open database 'missing.db': file not found" "$HK" --db missing.db run --task all
[ ! -e missing.db ] || fail "missing.db was created"
expect 66 "configuration file 'nope.toml' not found" "$HK" "${db[@]}" --config nope.toml run --task all; untouched 19
HOUSEKEEP_CONFIG=/nonexistent/housekeep.toml expect 66 "not found" "$HK" "${db[@]}" run --task all; untouched 20

if [ "$ENGINE" = sqlite ]; then # files that are no database, or a damaged one
# Data errors (65)
mkdir adir
expect 65 "it is a directory" "$HK" --db adir run --task all
head -c 4096 /dev/urandom > noise.db
expect 65 "is not a valid SQLite database" "$HK" --db noise.db run --task all

# A damaged database is never written to: a smashed leaf page of 'messages', far from the
# first rows a purge of conversations deletes, refuses the run before its first delete.
cp "$APP" damaged.db
page=$(sqlite3 damaged.db "SELECT pageno FROM dbstat WHERE name = 'messages' AND pagetype = 'leaf' ORDER BY pageno LIMIT 1 OFFSET 20")
page_size=$(q damaged.db "PRAGMA page_size")
printf '\x0d\x00\x00\xff\xff' | dd of=damaged.db bs=1 seek=$(( (page - 1) * page_size )) conv=notrunc 2>/dev/null
damaged=$(digest damaged.db)
expect 65 "database 'damaged.db' is damaged: " "$HK" --db damaged.db run --task conversations
check "the damaged file is byte-identical" [ "$(digest damaged.db)" = "$damaged" ]
fi
conf '[tasks.conversations]' 'table = "conversation"'
expect 65 "table 'conversation' does not exist" "$HK" "${db[@]}" -c bad.toml run --task conversations; unchanged 23
conf '[tasks.users]' 'active_column = "active"'
expect 65 "column 'active' does not exist in table 'users'" "$HK" "${db[@]}" -c bad.toml run --task users; unchanged 24
conf '[tasks.conversations]' 'children = []' 'referenced = "fail"'
expect 65 "rows of 'conversations' still referenced by messages.conversation_id (referenced = \"fail\")" "$HK" "${db[@]}" -c bad.toml run --task conversations; unchanged 25
conf '[tasks.messages]' 'parent = "users"'
expect 78 "tasks.messages: parent is 'users.id', but the schema declares 'messages.conversation_id' REFERENCES 'conversations.id'" "$HK" "${db[@]}" -c bad.toml run --task messages; unchanged 25b

if [ "$ENGINE" = sqlite ]; then # text and numbers in time columns: PostgreSQL time columns hold times (test_postgres.sh)
cp "$APP" odd.db
q odd.db "UPDATE conversations SET created_at = 'last tuesday' WHERE id = (SELECT max(id) FROM conversations)"
odd=$(data_digest odd.db)
expect 65 "'last tuesday', which is not an ISO-8601 UTC timestamp" "$HK" --db odd.db run --task conversations
[ "$(data_digest odd.db)" = "$odd" ] || fail "odd.db rows changed"
q odd.db "UPDATE conversations SET created_at = '2026-01-01 00:00:00' WHERE created_at = 'last tuesday'"
q odd.db "UPDATE conversations SET created_at = replace(created_at, ' ', 'T') WHERE id = (SELECT min(id) FROM conversations)"
expect 65 "mixes timestamp layouts" "$HK" --db odd.db run --task conversations

# Every value the cutoff selects is checked, not the two ends of the column: in a 'T'-layout
# column, values in the middle of the sort order that compare below the cutoff as text.
cutoff_day=$(date -u -d '30 days ago' +%F)
old_day=$(date -u -d '40 days ago' +%F)
for bad in "$cutoff_day 23:59:00|mixes timestamp layouts" "${old_day}T10:00:00-05:00|is not an ISO-8601 UTC timestamp" \
  "${old_day}T25:00:00|is not an ISO-8601 UTC timestamp" "$old_day noon|is not an ISO-8601 UTC timestamp"; do
  value=${bad%|*}
  cp "$APP" mid.db
  q mid.db "UPDATE conversations SET created_at = replace(created_at, ' ', 'T')"
  q mid.db "UPDATE conversations SET created_at = '$value' WHERE id IN (SELECT id FROM conversations ORDER BY created_at LIMIT 20 OFFSET (SELECT count(*) / 3 FROM conversations))"
  mid=$(data_digest mid.db)
  expect 65 "'$value' (at id = " "$HK" --db mid.db run --task conversations
  check "'$value': the error says why: ${bad#*|}" grep -qF "${bad#*|}" err
  check "'$value': nothing deleted" [ "$(data_digest mid.db)" = "$mid" ]
done
q odd.db "UPDATE conversations SET created_at = replace(created_at, 'T', ' ')"
q odd.db "UPDATE conversations SET created_at = '2099-01-01 00:00:00' WHERE id = (SELECT max(id) FROM conversations)"
expect 65 "more than a day in the future" "$HK" --db odd.db run --task conversations
sqlite3 unix.db "CREATE TABLE conversations (id INTEGER PRIMARY KEY, created_at INTEGER);
  CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation_id INTEGER);
  INSERT INTO conversations VALUES (1, 1700000000000), (2, 1700000100000);"
conf '[tasks.conversations]' 'time_format = "unix"'
expect 65 "only makes sense as milliseconds" "$HK" --db unix.db -c bad.toml run --task conversations
[ "$(q unix.db 'SELECT count(*) FROM conversations')" = 2 ] || fail "unix.db rows deleted"
fi

# Configuration errors (78)
conf '[tasks.users]' 'table = "users; DROP TABLE users"'
expect 78 "bad.toml:2:9: tasks.users.table: 'users; DROP TABLE users' is not a safe SQL identifier" "$HK" "${db[@]}" -c bad.toml run --task users; untouched 31
conf '[tasks.users' 'table = "x"'
expect 78 "bad.toml:1:13: invalid TOML" "$HK" "${db[@]}" -c bad.toml run --task all; untouched 32
conf '[tasks.users]' 'older_thn = "7d"'
expect 78 "bad.toml:2:1: unknown key 'older_thn' in [tasks.users]" "$HK" "${db[@]}" -c bad.toml run --task all; untouched 33
grep -qF "hint: did you mean 'older_than'?" err || fail "no hint for older_thn"
conf '[jobs.nightly]' 'task = "everything"' 'schedule = "0 2 * * *"'
expect 78 "jobs.nightly.task: unknown task 'everything'" "$HK" "${db[@]}" -c bad.toml config check
conf '[defaults]' 'batch_size = "big"'
expect 78 "defaults.batch_size must be an integer" "$HK" "${db[@]}" -c bad.toml run --task all; untouched 35
conf '[database]' 'busy_timeout = "5 seconds"'
expect 78 "bad.toml:2:16: database.busy_timeout: invalid duration" "$HK" "${db[@]}" -c bad.toml run --task all; untouched 36

# Cannot create output (73)
expect 73 "already exists" "$HK" "${db[@]}" demo; untouched 37
if [ "$ENGINE" = sqlite ]; then
  grep -qF "hint: pass --force" err || fail "no --force hint"
else
  grep -qF "hint: the demo writes only into a database without its tables" err || fail "no hint for a server's database"
fi

if [ "$ENGINE" = sqlite ]; then # a read-only file (PostgreSQL: a role without DELETE, test_postgres.sh)
# Permission (77): a real purge on a read-only database
expect 77 "is read-only; a real run needs write access" "$HK" --db "sqlite://app.db?mode=ro" run --task all; untouched 38
fi

# With --json the error is also the document on stdout
expect 64 "unknown task" "$HK" "${db[@]}" --json run --task nope
check "json error document" jq -e '.ok == false and .error.code == 64 and .error.kind == "usage" and (.error.message | test("unknown task"))' out
expect 66 "not found" "$HK" --db missing.db run --task all --json
check "json error document for 66" jq -e '.ok == false and .error.code == 66' out

unchanged final
finish
