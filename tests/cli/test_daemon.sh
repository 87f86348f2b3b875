#!/usr/bin/env bash
# The daemon as a real process: firing on time, beside another daemon, SIGTERM during a long
# purge, SIGHUP with a broken configuration, and catch-up after a restart.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

pids=()
cleanup_daemons() {
  local pid
  for pid in "${pids[@]}"; do
    kill -KILL "$pid" 2>/dev/null
  done
}
trap 'cleanup_daemons; rm -rf "$WORK"' EXIT

# start_daemon LOG ARGS...: starts the daemon in the background; its pid in $daemon_pid.
start_daemon() {
  local log=$1
  shift
  "$HK" "$@" daemon 2>"$log" &
  daemon_pid=$!
  pids+=("$daemon_pid")
}

# stop_daemon: SIGTERM, then the exit status and the seconds it took.
stop_daemon() {
  local start end
  start=$(date +%s.%N)
  kill -TERM "$daemon_pid"
  wait "$daemon_pid"
  stop_rc=$?
  end=$(date +%s.%N)
  stop_seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
}

"$HK" --db app.db demo --rows 600 -q

# --- fires on time, every second ---
cat >tick.toml <<'EOF'
[jobs.tick]
task = "stats"
schedule = "* * * * * *"
EOF
start_daemon tick.log --config tick.toml --db app.db
check "the daemon fires within 5 s" wait_for 5 sh -c "[ \"\$(sqlite3 app.db \"SELECT count(*) FROM housekeep_runs WHERE job = 'tick'\" 2>/dev/null)\" -ge 3 ]"
# A second daemon (here through a symbolic link to the same file) runs beside the first; both
# are listed, and each slot still runs once (checked below).
first_pid=$daemon_pid
mkdir -p via && ln -sf ../app.db via/link.db
start_daemon second.log --config tick.toml --db via/link.db
second_pid=$daemon_pid
check "the second daemon names the first" wait_for 5 grep -q "another daemon runs for this database: pid $first_pid on " second.log
expect 0 "" "$HK" --config tick.toml --db app.db --json scheduler-info
check "scheduler-info shows both daemons running" jq -e --argjson a "$first_pid" --argjson b "$second_pid" '.daemon.running and ([.daemon.replicas[] | select(.state == "running") | .pid] | sort == ([$a, $b] | sort))' out
expect 0 "" "$HK" --config tick.toml --db app.db scheduler-info
check "scheduler-info's table lists both" sh -c "grep -q '^daemon: 2 running' out && grep -q '^ *$first_pid ' out && grep -q '^ *$second_pid ' out"
stop_daemon
check "the second daemon stops: exit 0" [ "$stop_rc" -eq 0 ]
daemon_pid=$first_pid
stop_daemon
check "SIGTERM while idle: exit 0" [ "$stop_rc" -eq 0 ]
check "SIGTERM while idle: stops within 2 s (took ${stop_seconds}s)" awk -v s="$stop_seconds" 'BEGIN { exit !(s < 2) }'
# Each firing starts within 100 ms of its whole second.
late=$(q app.db "SELECT count(*) FROM housekeep_runs WHERE job = 'tick' AND CAST(substr(started_at, 21, 3) AS INTEGER) >= 100")
check "every firing within 100 ms of due ($late late)" [ "$late" -eq 0 ]
check "no second of the schedule ran twice" [ "$(q app.db "SELECT count(*) - count(DISTINCT substr(started_at, 1, 19)) FROM housekeep_runs WHERE job = 'tick'")" -eq 0 ]
check "stopped daemons recorded" [ "$(q app.db "SELECT group_concat(DISTINCT status) FROM housekeep_replicas")" = stopped ]
check "each slot claimed once, and run by the daemon that claimed it" [ "$(q app.db "SELECT count(*) FROM housekeep_claims c JOIN housekeep_runs r ON r.job = c.job AND r.pid = c.pid AND substr(r.started_at, 1, 19) = substr(c.slot, 1, 19) WHERE c.status = 'ok'")" -eq "$(q app.db "SELECT count(*) FROM housekeep_runs WHERE job = 'tick'")" ]
check "log: fired and finished lines" sh -c "grep -q 'tick: fired (task stats, due ' $WORK/tick.log && grep -q 'tick: finished ok in ' $WORK/tick.log"
expect 0 "" "$HK" --config tick.toml --db app.db --json scheduler-info
check "scheduler-info: daemon not running after stop" jq -e '.daemon.running == false and .daemon.replicas[0].status == "stopped"' out

# --- a database replaced under the daemon is opened again, not purged in its old file ---
"$HK" --db swap.db demo --rows 300 -q
start_daemon swap.log --config tick.toml --db swap.db
check "the daemon fires on the first file" wait_for 5 sh -c "[ \"\$(sqlite3 swap.db \"SELECT count(*) FROM housekeep_runs WHERE job = 'tick'\" 2>/dev/null)\" -ge 1 ]"
rm swap.db
"$HK" --db swap.db demo --rows 300 -q
check "the new file is purged on the next firings" wait_for 5 sh -c "[ \"\$(sqlite3 swap.db \"SELECT count(*) FROM housekeep_runs WHERE job = 'tick'\" 2>/dev/null)\" -ge 1 ]"
check "the daemon said it opened the database again" grep -q "was replaced since the daemon opened it; opening it again" swap.log
stop_daemon
expect 0 "" "$HK" --config tick.toml --db swap.db scheduler-info --check

# --- a firing whose history cannot be written is a failed firing, not "finished ok" ---
"$HK" --db nohist.db demo --rows 100 -q
"$HK" --db nohist.db run --task stats -q
q nohist.db "CREATE TRIGGER no_history BEFORE INSERT ON housekeep_runs BEGIN SELECT RAISE(ABORT, 'history refused'); END"
start_daemon nohist.log --config tick.toml --db nohist.db
check "the firing is reported failed" wait_for 5 grep -q "tick: finished failed" nohist.log
check "with the history error named" grep -q "tick: the run could not be recorded in housekeep_runs: .*history refused" nohist.log
check "never 'finished ok'" [ "$(grep -c "tick: finished ok" nohist.log)" = 0 ]
stop_daemon

# --- --check sees a daemon that died without a clean stop ---
start_daemon swap.log --config tick.toml --db swap.db
check "the daemon fires" wait_for 5 sh -c "[ \"\$(sqlite3 swap.db \"SELECT count(*) FROM housekeep_runs WHERE job = 'tick'\" 2>/dev/null)\" -ge 3 ]"
# Killed between firings (mid-second, no run of its own open): only the daemon is the problem
# here; a run it left behind would make the job failed too (checked elsewhere).
idle_mid_second() {
  local ms=$((10#$(date +%N) / 1000000))
  [ "$ms" -ge 300 ] && [ "$ms" -le 700 ] &&
    [ "$(q swap.db "SELECT count(*) FROM housekeep_runs WHERE job = 'tick' AND status = 'running'")" -eq 0 ]
}
wait_for 10 idle_mid_second
kill -KILL "$daemon_pid"; wait "$daemon_pid" 2>/dev/null
check "killed with no run of its open" [ "$(q swap.db "SELECT count(*) FROM housekeep_runs WHERE job = 'tick' AND status = 'running'")" -eq 0 ]
expect 1 "ended without a clean stop; its last heartbeat was at" "$HK" --config tick.toml --db swap.db scheduler-info --check
expect 1 "" "$HK" --config tick.toml --db swap.db --json scheduler-info --check
check "--json: not ok, with the daemon's problem" jq -e '.ok == false and (.daemon.problem | test("without a clean stop"))' out
check "--json: one document on stdout, with the error in it" jq -e -s 'length == 1 and .[0].error.code == 1' out
# Two problems at once: the dead daemon and a job whose last run failed, one line each.
cat >two.toml <<'EOF'
[jobs.tick]
task = "stats"
schedule = "* * * * * *"

[jobs.nightly]
task = "stats"
schedule = "0 2 * * *"
EOF
sqlite3 swap.db "INSERT INTO housekeep_runs (job, task, started_at, finished_at, status, error, host, pid) VALUES ('nightly', 'stats', '2026-01-01T02:00:00.000Z', '2026-01-01T02:00:01.000Z', 'failed', 'disk I/O error', 'h', 1)"
"$HK" --config two.toml --db swap.db --json scheduler-info --check >out 2>err
check "two problems: exit 1" [ $? -eq 1 ]
check "two problems: one error line each" [ "$(grep -c '^housekeep: error: ' err)" -eq 2 ]
check "two problems: the failed job named" grep -q "^housekeep: error: job 'nightly' is failed: .*disk I/O error" err
check "two problems: both in the JSON document" jq -e '(.problems | length) == 2 and .ok == false' out

# --- --check's other blind spots, one at a time on a fresh database ---
cat >night.toml <<'EOF'
[jobs.nightly]
task = "stats"
schedule = "0 2 * * *"
timezone = "UTC"
EOF
ago() { date -u -d "$1" +%Y-%m-%dT%H:%M:%S.000Z; }
# A stuck daemon: its process runs, but its heartbeat is an hour old and its lease ran out.
"$HK" --db stuck.db demo --rows 100 -q
start_daemon stuck.log --config night.toml --db stuck.db
check "the daemon starts" wait_for 5 sh -c "[ \"\$(sqlite3 stuck.db 'SELECT count(*) FROM housekeep_replicas' 2>/dev/null)\" = 1 ]"
kill -STOP "$daemon_pid"
q stuck.db "UPDATE housekeep_replicas SET heartbeat_at = '$(ago '1 hour ago')', lease_until = 0"
expect 1 "has not refreshed its heartbeat since" "$HK" --config night.toml --db stuck.db scheduler-info --check
kill -CONT "$daemon_pid"
stop_daemon
# A run left 'running' by a process that is gone.
"$HK" --db left.db demo --rows 100 -q
sh -c 'exit 0' & dead=$!; wait "$dead"
"$HK" --config night.toml --db left.db run --job nightly -q
q left.db "INSERT INTO housekeep_runs (job, task, started_at, finished_at, status, host, pid) VALUES ('nightly', 'stats', '$(ago '1 second')', '$(ago '1 second')', 'running', '$(hostname)', $dead)"
expect 1 "job 'nightly' is failed: last run at" "$HK" --config night.toml --db left.db scheduler-info --check
check "the check names the dead process" grep -q "process $dead ended without finishing the run" err
# A job whose last slot the daemon missed (recorded in housekeep_jobs), nothing since.
"$HK" --db missed.db demo --rows 100 -q
"$HK" --config night.toml --db missed.db run --job nightly -q
q missed.db "UPDATE housekeep_runs SET started_at = '$(ago '3 days ago')', finished_at = '$(ago '3 days ago')'"
q missed.db "CREATE TABLE housekeep_jobs (job TEXT PRIMARY KEY, schedule TEXT NOT NULL, timezone TEXT NOT NULL, last_fire TEXT, next_fire TEXT, last_status TEXT NOT NULL DEFAULT '', updated_at TEXT NOT NULL, first_due TEXT, missed INTEGER NOT NULL DEFAULT 0, last_missed TEXT)"
q missed.db "INSERT INTO housekeep_jobs VALUES ('nightly', '0 2 * * *', 'UTC', '$(date -u +%Y-%m-%dT02:00:00.000Z)', '$(date -u -d tomorrow +%Y-%m-%dT02:00:00.000Z)', 'missed', '$(ago now)', '$(ago '4 days ago')', 2, '$(date -u +%Y-%m-%dT02:00:00.000Z)')"
expect 1 "job 'nightly' is " "$HK" --config night.toml --db missed.db scheduler-info --check
check "missed: named as missed (or late when past its grace)" grep -qE "is (missed|late):" err
expect 0 "" "$HK" --config night.toml --db missed.db --json scheduler-info
check "scheduler-info shows the missed slots" jq -e '.jobs[0].missed.count == 2 and (.jobs[0].missed.latest | test("T02:00:00"))' out
check "without --check: ok, the problem listed as data" jq -e '.ok and (.problems | length) == 1 and (has("error") | not)' out
# A job a daemon has waited for since four days ago, never run.
"$HK" --db never.db demo --rows 100 -q
q never.db "CREATE TABLE housekeep_jobs (job TEXT PRIMARY KEY, schedule TEXT NOT NULL, timezone TEXT NOT NULL, last_fire TEXT, next_fire TEXT, last_status TEXT NOT NULL DEFAULT '', updated_at TEXT NOT NULL, first_due TEXT, missed INTEGER NOT NULL DEFAULT 0, last_missed TEXT)"
q never.db "INSERT INTO housekeep_jobs VALUES ('nightly', '0 2 * * *', 'UTC', NULL, '$(date -u -d tomorrow +%Y-%m-%dT02:00:00.000Z)', '', '$(ago now)', '$(date -u -d '4 days ago' +%Y-%m-%dT02:00:00.000Z)', 0, NULL)"
expect 1 "job 'nightly' is late: never run; first due at" "$HK" --config night.toml --db never.db scheduler-info --check

# --- SIGTERM during a long purge ---
"$HK" --db big.db demo --rows 20000 -q
# The demo holds orphaned messages on purpose; the purge must not add any.
fk_before=$(q big.db "PRAGMA foreign_key_check" | wc -l)
orphans_before=$(q big.db "SELECT count(*) FROM messages m WHERE m.conversation_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.id = m.conversation_id)")
cat >slow.toml <<'EOF'
[defaults]
batch_size = 5
batch_time = "0s"
sleep = "100ms"

[jobs.purge]
task = "conversations"
schedule = "* * * * * *"
EOF
start_daemon slow.log --config slow.toml --db big.db
check "the purge starts" wait_for 5 grep -q "purge: fired" slow.log
sleep 0.5
stop_daemon
check "SIGTERM during a purge: exit 0" [ "$stop_rc" -eq 0 ]
check "SIGTERM during a purge: stops within 2 s (took ${stop_seconds}s)" awk -v s="$stop_seconds" 'BEGIN { exit !(s < 2) }'
check "the run is recorded as interrupted" [ "$(q big.db "SELECT status FROM housekeep_runs WHERE job = 'purge' ORDER BY id DESC LIMIT 1")" = interrupted ]
check "some batches were committed" [ "$(q big.db "SELECT count(*) FROM conversations WHERE created_at < datetime('now', '-30 days')")" -gt 0 ]
check "integrity ok" [ "$(q big.db "PRAGMA integrity_check")" = ok ]
check "no foreign key broken" [ "$(q big.db "PRAGMA foreign_key_check" | wc -l)" -eq "$fk_before" ]
check "no message left without its conversation" [ "$(q big.db "SELECT count(*) FROM messages m WHERE m.conversation_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.id = m.conversation_id)")" = "$orphans_before" ]
check "interrupted says so in the log" grep -q "interrupted after batch" slow.log

# --- run: --timeout and SIGTERM stop after a committed batch too ---
left=$(q big.db "SELECT (SELECT count(*) FROM conversations) + (SELECT count(*) FROM messages)")
expect 75 "timed out after batch" "$HK" --db big.db run --task conversations --batch-size 5 --batch-time 0 --sleep 50ms --timeout 200ms
check "run --timeout: recorded as timed-out" [ "$(q big.db "SELECT status FROM housekeep_runs WHERE job = '' ORDER BY id DESC LIMIT 1")" = timed-out ]
check "run --timeout: some rows went" \
  [ "$(q big.db "SELECT (SELECT count(*) FROM conversations) + (SELECT count(*) FROM messages)")" -lt "$left" ]
left=$(q big.db "SELECT (SELECT count(*) FROM conversations) + (SELECT count(*) FROM messages)")
"$HK" --db big.db run --task conversations --batch-size 5 --batch-time 0 --sleep 100ms >/dev/null 2>run_term.log &
run_pid=$!
wait_for 5 sh -c "[ \"\$(sqlite3 big.db \"SELECT (SELECT count(*) FROM conversations) + (SELECT count(*) FROM messages)\")\" -lt $left ]" >/dev/null
sleep 0.3
kill -TERM "$run_pid"
wait "$run_pid"
check "run: SIGTERM exits 75" [ $? -eq 75 ]
check "run: SIGTERM recorded as interrupted" [ "$(q big.db "SELECT status FROM housekeep_runs WHERE job = '' ORDER BY id DESC LIMIT 1")" = interrupted ]
check "run: integrity after SIGTERM" [ "$(q big.db "PRAGMA integrity_check")" = ok ]

# --- SIGHUP with a broken configuration keeps the old jobs ---
cp tick.toml live.toml
start_daemon hup.log --config live.toml --db app.db
check "started" wait_for 5 grep -q "tick: finished ok" hup.log
printf '[jobs.tick]\ntask = "stats"\nschedule = "61 * * * *"\n' >live.toml
kill -HUP "$daemon_pid"
check "the broken file is reported" wait_for 5 grep -q "configuration not reloaded, the previous one stays in force" hup.log
check "the error names the file position" grep -q "live.toml:3:" hup.log
before=$(q app.db "SELECT count(*) FROM housekeep_runs WHERE job = 'tick'")
check "the old job keeps firing" wait_for 5 sh -c "[ \"\$(sqlite3 app.db \"SELECT count(*) FROM housekeep_runs WHERE job = 'tick'\")\" -gt $before ]"
check "the daemon is still alive" kill -0 "$daemon_pid"
printf '[jobs.tock]\ntask = "stats"\nschedule = "* * * * * *"\n' >live.toml
kill -HUP "$daemon_pid"
check "a good file is taken" wait_for 5 grep -q "configuration reloaded from live.toml: 1 enabled job" hup.log
check "the new job fires" wait_for 5 sh -c "[ \"\$(sqlite3 app.db \"SELECT count(*) FROM housekeep_runs WHERE job = 'tock'\")\" -ge 1 ]"
stop_daemon
check "exit 0 after reloads" [ "$stop_rc" -eq 0 ]

# --- a firing missed while stopped runs once at restart ---
cat >nightly.toml <<'EOF'
[jobs.every3]
task = "stats"
schedule = "@every 3s"
misfire_grace = "1h"
EOF
start_daemon n1.log --config nightly.toml --db app.db
check "the job is scheduled" wait_for 5 sh -c "[ \"\$(sqlite3 app.db \"SELECT count(*) FROM housekeep_jobs WHERE job = 'every3'\" 2>/dev/null)\" -eq 1 ]"
stop_daemon
sleep 7 # two firings missed while stopped
runs_before=$(q app.db "SELECT count(*) FROM housekeep_runs WHERE job = 'every3'")
expect 0 "missed firings with one run now" "$HK" --config nightly.toml --db app.db daemon --once
check "exactly one run at restart" [ "$(q app.db "SELECT count(*) FROM housekeep_runs WHERE job = 'every3'")" -eq $((runs_before + 1)) ]
missed=$(sed -nE 's/.*catching up ([0-9]+) missed firings.*/\1/p' err)
check "each coalesced slot logged ($missed missed)" [ "$(grep -c 'every3: missed the firing due' err)" -eq $((missed - 1)) ]
expect 0 "" "$HK" --config nightly.toml --db app.db daemon --once
check "nothing owed right after: no second run" [ "$(q app.db "SELECT count(*) FROM housekeep_runs WHERE job = 'every3'")" -eq $((runs_before + 1)) ]

# --- a daemon killed with SIGKILL leaves nothing that blocks the next one ---
start_daemon k1.log --config tick.toml --db app.db
killed=$daemon_pid
check "started before the kill" wait_for 5 grep -q "tick: finished ok" k1.log
kill -KILL "$daemon_pid"
wait "$daemon_pid" 2>/dev/null
expect 1 "the daemon (pid $killed on $(hostname)) ended without a clean stop" "$HK" --config tick.toml --db app.db scheduler-info --check
start_daemon k2.log --config tick.toml --db app.db
check "the next daemon fires" wait_for 5 grep -q "tick: finished ok" k2.log
expect 0 "" "$HK" --config tick.toml --db app.db --json scheduler-info --check
check "the killed daemon's record went when the next one started on its host" jq -e --argjson pid "$killed" '[.daemon.replicas[] | select(.pid == $pid)] | length == 0' out
stop_daemon
check "and stops cleanly" [ "$stop_rc" -eq 0 ]

# --- sd_notify: READY, STATUS and STOPPING reach the notification socket ---
python3 - "$WORK/notify.sock" >notify.txt 2>&1 <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(10)
try:
    while True:
        msg = s.recv(4096).decode()
        print(msg, flush=True)
        if "STOPPING=1" in msg:
            break
except socket.timeout:
    pass
PY
listener=$!
wait_for 5 test -S "$WORK/notify.sock"
NOTIFY_SOCKET="$WORK/notify.sock" "$HK" --config tick.toml --db app.db daemon 2>notify.log &
daemon_pid=$!
pids+=("$daemon_pid")
check "READY=1 sent" wait_for 5 grep -q "^READY=1" notify.txt
check "STATUS= names the next job" wait_for 5 grep -q "^STATUS=waiting for tick at " notify.txt
stop_daemon
wait "$listener"
check "STOPPING=1 sent" grep -q "^STOPPING=1" notify.txt

# --- the packaged systemd unit ---
if command -v systemd-analyze >/dev/null 2>&1; then
  sed "s|/usr/bin/housekeep|$HK|" "$HERE/../../packaging/systemd/housekeep.service" >housekeep.service
  check "packaging/systemd/housekeep.service passes systemd-analyze verify" systemd-analyze verify --man=no housekeep.service
  check "the unit is Type=notify with a watchdog" sh -c "grep -q '^Type=notify$' housekeep.service && grep -q '^WatchdogSec=' housekeep.service"
fi

# --- bad input ---
expect 66 "file not found" "$HK" --config tick.toml --db missing.db daemon
printf '[jobs.x]\ntask = "stats"\nschedule = "@reboot"\n' >bad.toml
expect 78 "bad.toml:3:" "$HK" --config bad.toml --db app.db daemon
finish
