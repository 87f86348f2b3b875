#!/usr/bin/env bash
# stdout carries results only; logs go to stderr as text, JSON lines, or with journald
# priority prefixes.
. "$(dirname "$0")/lib.sh"

APP=$(db app)
"$HK" --db "$APP" demo --rows 3000 -q
expect 0 "" "$HK" --db "$APP" -v --json run --task stats
check "stdout is exactly one JSON document, even with -v" jq -e '.ok' out
check "stats keys of SPEC §8" jq -e '.tasks[0].stats | has("total_users") and has("active_users") and has("total_conversations") and has("total_messages") and has("recent_conversations_24h") and has("recent_messages_24h")' out
check "stats counts match the database" [ "$(jq '.tasks[0].stats.total_messages' out)" = "$(q "$APP" 'SELECT count(*) FROM messages')" ]
check "active users match the database" [ "$(jq '.tasks[0].stats.active_users' out)" = "$(q "$APP" 'SELECT count(*) FROM users WHERE is_active')" ]
check "recent messages match the database (within the run's bounds)" \
  [ "$(jq '.tasks[0].stats.recent_messages_24h' out)" -ge "$(q "$APP" "SELECT count(*) FROM messages WHERE created_at >= $(ts "$(date -u -d '-1 day +1 minute' '+%Y-%m-%d %H:%M:%S')")")" ]
check "-v logs on stderr" grep -q "stats: " err
# The window as configured, never rewritten ("7d", not "1w").
printf '[tasks.stats]\nrecent = "7d"\n' >week.toml
expect 0 "" "$HK" --db "$APP" -c week.toml --json run --task stats
check "stats keys name the window as configured" jq -e '.tasks[0].stats | has("recent_messages_7d") and has("recent_conversations_7d")' out

expect 0 "" "$HK" --db "$APP" --log-format json run --task all --dry-run
check "json log lines" sh -c "jq -e -s 'length > 0 and all(.[]; has(\"time\") and has(\"level\") and has(\"message\"))' $WORK/err"
check "table on stdout" grep -q "WOULD DELETE" out
# JSON log lines carry what they are about as fields.
FIELDS=$(copy_db "$APP" fields)
expect 0 "" "$HK" --db "$FIELDS" --log-format json run --task all --sleep 0
check "json log: a task's line has task, rows, duration_ms and status" \
  jq -e -s 'any(.[]; .task == "conversations" and .status == "ok" and (.rows | type) == "number" and (.duration_ms | type) == "number")' err
check "json log: rows is what the task deleted" \
  [ "$(jq -s '[.[] | select(.task == "conversations" and .status == "ok")][0].rows' err)" -gt 0 ]
"$HK" --db "$FIELDS" --log-format json -v run --task conversations --older-than 1d --sleep 0 2>err >/dev/null
check "json log: batch lines name their table and rows" jq -e -s 'any(.[]; .level == "debug" and (.table | type) == "string" and (.rows | type) == "number")' err
printf '[tasks.messages]\nparent = "nope"\n' >nope.toml
"$HK" --db "$FIELDS" -c nope.toml --log-format json run --task messages 2>err >/dev/null
check "json log: an error line has its status and code" jq -e -s 'any(.[]; .level == "error" and .task == "messages" and .status == "failed" and .code == 65)' err

# One report per run when stdout and stderr are the same terminal: the table alone, the
# per-task lines with -v; redirected, the lines stay (cron mail, the journal).
if command -v script >/dev/null; then
  TTY=$(copy_db "$APP" tty)
  script -qec "$HK --db '$TTY' run --task all --sleep 0" /dev/null >tty.out
  check "terminal: the table" grep -q "^conversations  ok" tty.out
  check "terminal: no per-task line repeating it" [ "$(grep -c 'housekeep: conversations: deleted' tty.out)" -eq 0 ]
  script -qec "$HK --db '$TTY' -v run --task stats" /dev/null >tty.out
  check "terminal with -v: the per-task line too" grep -q "housekeep: stats: total_users=" tty.out
  "$HK" --db "$TTY" run --task stats >/dev/null 2>err
  check "stdout redirected: the per-task line stays" grep -q "^housekeep: stats: total_users=" err
fi
check "thousands separators" grep -qE "[0-9],[0-9]{3}" out

JOURNAL_STREAM=8:1234 expect 0 "" "$HK" --db "$APP" run --task stats
check "journald priority prefix" grep -q '^<6>housekeep: stats: ' err
JOURNAL_STREAM=8:1234 "$HK" --db nope.db run --task stats 2>err
check "journald error priority and exit 66" [ $? -eq 66 ]
check "journald error line" grep -q '^<3>housekeep: error: cannot open database' err

# --force replaces a SQLite file; a server's tables are never dropped (64), so a new one there.
if [ "$ENGINE" = sqlite ]; then SMALL=$APP; force=--force; else SMALL=$(db small); force=; fi
expect 0 "" "$HK" --db "$SMALL" --json demo --rows 10 $force
check "demo --json" jq -e '.ok and .messages == 10' out
check "demo wrote its rows" [ "$(q "$SMALL" 'SELECT count(*) FROM messages')" = 10 ]
if [ "$ENGINE" = postgresql ]; then
  expect 64 "demo --force replaces a file, never tables of a server's database" "$HK" --db "$APP" demo --force
fi
expect 0 "" "$HK" --db "$APP" --json config check
check "config check --json" jq -e '.ok and .source == "built-in defaults"' out
finish
