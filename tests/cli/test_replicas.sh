#!/usr/bin/env bash
# Three daemons on one database (a SQLite file, a PostgreSQL database, or one reached through
# PgBouncer in transaction mode: HOUSEKEEP_TEST_ENGINE, HOUSEKEEP_TEST_VIA=pgbouncer):
#  - an every-second job for HOUSEKEEP_TEST_REPLICA_SECONDS (60): every slot runs exactly
#    once, on the daemon that claimed it (housekeep_claims and housekeep_runs agree, read with
#    plain SQL), none twice, none missed;
#  - the daemon running a long purge killed with SIGKILL: another takes its slot over within
#    the lease + 2 s and finishes the purge, leaving no old row and no orphan;
#  - a manual run asked of one daemon's status API: another daemon refuses the job with 409
#    until it finished.
. "$(dirname "$0")/lib.sh"
VIA=${HOUSEKEEP_TEST_VIA:-direct}
RUN_SECONDS=${HOUSEKEEP_TEST_REPLICA_SECONDS:-60}
LEASE=${HOUSEKEEP_TEST_LEASE_SECONDS:-4}

pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill -KILL "$pid" 2>/dev/null
  done
  if [ "$ENGINE" = postgresql ]; then drop_databases; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

DB=$(db replicas)
URL=$DB
if [ "$VIA" = pgbouncer ]; then
  if [ "$ENGINE" != postgresql ] || [ -z "${HOUSEKEEP_TEST_PGBOUNCER_PORT:-}" ]; then
    echo "skipped: no PgBouncer (HOUSEKEEP_TEST_PGBOUNCER_PORT)"
    exit 77
  fi
  URL="postgresql://postgres@127.0.0.1:$HOUSEKEEP_TEST_PGBOUNCER_PORT/${PG_PREFIX}replicas"
fi
"$HK" --db "$DB" demo --rows 20000 -q || exit 1
MDB=$(copy_db "$DB" manual) # for the manual runs, at the end

# start_replicas CONFIG: three daemons on the database, their pids in $pids.
start_replicas() {
  local i
  pids=()
  for i in 1 2 3; do
    "$HK" --db "$URL" -c "$1" daemon 2>"replica$i.log" &
    pids+=($!)
  done
}
# stop_replicas: SIGTERM to those still running; each must exit 0.
stop_replicas() {
  local pid rc
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || continue
    wait "$pid"
    rc=$?
    check "daemon $pid stops with 0 (rc $rc)" [ "$rc" -eq 0 ]
  done
  pids=()
}
seconds_of() {
  if [ "$ENGINE" = sqlite ]; then echo "CAST(strftime('%s', $1) AS INTEGER)"; else echo "CAST(extract(epoch FROM CAST($1 AS timestamptz)) AS BIGINT)"; fi
}

# --- every slot exactly once ---
cat >tick.toml <<EOF
[database]
lease = "${LEASE}s"

[jobs.tick]
task = "stats"
schedule = "* * * * * *"
EOF
start_replicas tick.toml
sleep 3
expect 0 "" "$HK" --db "$URL" -c tick.toml --json scheduler-info
check "scheduler-info lists the three replicas running" jq -e '[.daemon.replicas[] | select(.state == "running")] | length == 3' out
sleep $((RUN_SECONDS - 3))
# Errors while they ran (a SIGTERM that lands between a slot's claim and its task is logged
# as that task not started: interrupted, which is what it is).
errors_before_stop=$(grep -h 'housekeep: error:' replica*.log)
stop_replicas

runs=$(q "$DB" "SELECT count(*) FROM housekeep_runs WHERE job = 'tick'")
claims=$(q "$DB" "SELECT count(*) FROM housekeep_claims WHERE job = 'tick'")
span=$(q "$DB" "SELECT $(seconds_of 'max(slot)') - $(seconds_of 'min(slot)') + 1 FROM housekeep_claims WHERE job = 'tick'")
echo "$RUN_SECONDS s: $runs runs, $claims claims over $span seconds; by daemon: $(q "$DB" "SELECT pid || ':' || count(*) FROM housekeep_runs WHERE job = 'tick' GROUP BY pid ORDER BY pid" | tr '\n' ' ')"
check "a slot a second for about $RUN_SECONDS s ($claims)" [ "$claims" -ge $((RUN_SECONDS - 3)) ]
check "no slot missed: $claims slots claimed over $span seconds" [ "$claims" -eq "$span" ]
check "every claimed slot ran once: $claims claims, $runs runs" [ "$claims" -eq "$runs" ]
check "no second ran twice" [ "$(q "$DB" "SELECT count(*) - count(DISTINCT substr(started_at, 1, 19)) FROM housekeep_runs WHERE job = 'tick'")" -eq 0 ]
check "each run is its slot's, on the daemon that claimed it, with its status" [ "$(q "$DB" "SELECT count(*) FROM housekeep_runs r JOIN housekeep_claims c ON c.job = r.job AND c.pid = r.pid AND c.status = r.status AND substr(c.slot, 1, 19) = substr(r.started_at, 1, 19) WHERE r.job = 'tick'")" -eq "$runs" ]
check "no claim left unfinished" [ "$(q "$DB" "SELECT count(*) FROM housekeep_claims WHERE finished_ms IS NULL")" -eq 0 ]
check "no missed slot counted in housekeep_jobs" [ "$(q "$DB" "SELECT missed FROM housekeep_jobs WHERE job = 'tick'")" -eq 0 ]
check "more than one daemon ran slots" [ "$(q "$DB" "SELECT count(DISTINCT pid) FROM housekeep_runs WHERE job = 'tick'")" -ge 2 ]
check "no daemon logged an error while they ran ${errors_before_stop:0:200}" [ -z "$errors_before_stop" ]

# --- the daemon running a long purge is killed; another finishes it ---
cat >purge.toml <<EOF
[database]
lease = "${LEASE}s"

[defaults]
batch_size = 10
sleep = "100ms"

[jobs.purge]
task = "conversations"
schedule = "* * * * * *"
EOF
if [ "$ENGINE" = sqlite ]; then
  old="created_at < datetime('now', '-30 days')"
else
  old="created_at < now() - interval '30 days'"
fi
orphans="SELECT count(*) FROM messages m WHERE m.conversation_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.id = m.conversation_id)"
old_before=$(q "$DB" "SELECT count(*) FROM conversations WHERE $old")
orphans_before=$(q "$DB" "$orphans") # the demo makes some, for the messages task
start_replicas purge.toml
holder=""
for _ in $(seq 100); do
  holder=$(q "$DB" "SELECT pid FROM housekeep_claims WHERE job = 'purge' AND finished_ms IS NULL" 2>/dev/null)
  [ -n "$holder" ] && [ "$(q "$DB" "SELECT count(*) FROM conversations WHERE $old")" -lt $((old_before - 100)) ] && break
  sleep 0.1
done
slot=$(q "$DB" "SELECT slot FROM housekeep_claims WHERE job = 'purge' AND finished_ms IS NULL")
check "a daemon runs the purge ($old_before old conversations; slot $slot, pid $holder)" [ -n "$holder" ]
# A shell elsewhere sees the run in progress, with the progress its daemon recorded.
progress_shown() {
  "$HK" --db "$URL" -c purge.toml --json status >status.json 2>/dev/null &&
    jq -e --argjson pid "$holder" '.running | map(select(.job == "purge" and .pid == $pid and .progress.task == "conversations" and .progress.done > 0 and .progress.total >= .progress.done)) | length == 1' status.json
}
check "status shows the purge running on pid $holder, with its progress" wait_for 5 progress_shown
"$HK" --db "$URL" -c purge.toml status >status.txt 2>&1
check "status's table says so" grep -qE "^running: purge on pid $holder on .*; conversations: [0-9,]+ of ~[0-9,]+ rows" status.txt
kill -KILL "$holder"
killed_at=$(date +%s%N)
left_at_kill=$(q "$DB" "SELECT count(*) FROM conversations WHERE $old")
taken=""
for _ in $(seq $(((LEASE + 5) * 20))); do
  taken=$(q "$DB" "SELECT pid FROM housekeep_claims WHERE job = 'purge' AND slot = '$slot' AND takeovers = 1")
  [ -n "$taken" ] && break
  sleep 0.05
done
seen_ms=$((($(date +%s%N) - killed_at) / 1000000))
# When the taking-over statement ran, by the database's clock (this host's): the test's own
# polling, and a commit held up by a loaded machine, are not the daemon's latency.
took_ms=$(($(q "$DB" "SELECT claimed_ms FROM housekeep_claims WHERE job = 'purge' AND slot = '$slot'") - killed_at / 1000000))
echo "killed pid $holder with $left_at_kill of $old_before old conversations left; pid $taken took the slot over after $took_ms ms (seen after $seen_ms ms)"
check "another daemon took the slot over (pid $taken)" [ -n "$taken" -a "$taken" != "$holder" ]
check "within the lease + 2 s ($took_ms ms)" [ "$took_ms" -le $(((LEASE + 2) * 1000)) ] ||
  { q "$DB" "SELECT job, slot, holder, status, takeovers FROM housekeep_claims WHERE job = 'purge'"; tail -n 5 replica*.log; }
check "the purge was not finished when killed ($left_at_kill left)" [ "$left_at_kill" -gt 0 ]
slot_done() { [ "$(q "$DB" "SELECT status FROM housekeep_claims WHERE job = 'purge' AND slot = '$slot'")" = ok ]; }
check "the slot's claim finishes ok" wait_for 60 slot_done
stop_replicas
check "no old conversation left" [ "$(q "$DB" "SELECT count(*) FROM conversations WHERE $old")" -eq 0 ]
check "no message orphaned (the demo's $orphans_before orphans, and no more)" [ "$(q "$DB" "$orphans")" -eq "$orphans_before" ]
check "the killed daemon's run is marked abandoned" [ "$(q "$DB" "SELECT count(*) FROM housekeep_runs WHERE job = 'purge' AND pid = $holder AND status = 'abandoned'")" -eq 1 ]
check "the taking-over daemon said so" grep -q "took over the slot due .* from pid $holder" replica*.log
deleted=$(q "$DB" "SELECT sum($(json_int deleted conversations)) FROM housekeep_runs WHERE job = 'purge' AND status IN ('ok', 'interrupted', 'abandoned')")
echo "conversations deleted as recorded by the runs that finished: $deleted (of $old_before; the killed run's batches are not recorded)"

# --- a manual run asked of one daemon holds the job on every daemon ---
command -v curl >/dev/null || skip "curl is not installed"
MURL=$MDB
if [ "$VIA" = pgbouncer ]; then
  MURL="postgresql://postgres@127.0.0.1:$HOUSEKEEP_TEST_PGBOUNCER_PORT/${PG_PREFIX}manual"
fi
head -c 24 /dev/urandom | base64 >token
chmod 600 token
cat >manual.toml <<EOF
[database]
lease = "${LEASE}s"

[http]
token_file = "$WORK/token"

[defaults]
batch_size = 10
sleep = "100ms"

[jobs.purge]
task = "conversations"
schedule = "0 3 * * *"
EOF
pids=()
bases=()
for i in 1 2; do
  "$HK" --db "$MURL" -c manual.toml daemon --listen 127.0.0.1:0 2>"manual$i.log" &
  pids+=($!)
  wait_for 5 grep -q "serving the status API on http://" "manual$i.log"
  bases+=("$(grep -o "http://[^ ]*" "manual$i.log" | head -1)")
done
auth="Authorization: Bearer $(cat token)"
post() { curl -s -o "$2" -w '%{http_code}' -X POST -H "$auth" "$1"; }
code=$(post "${bases[0]}/api/v1/jobs/purge/run" first.json)
id=$(jq -r .id first.json)
check "daemon 1 starts a manual run of the job ($code, $id)" [ "$code" = 202 ]
code=$(post "${bases[1]}/api/v1/jobs/purge/run" second.json)
check "daemon 2 refuses the same job while it runs there: 409 ($code)" [ "$code" = 409 ]
check "naming the run that holds it" jq -e --arg id "$id" '.error | contains($id)' second.json
code=$(post "${bases[1]}/api/v1/tasks/conversations/run" third.json)
check "and its task: 409 ($code)" [ "$code" = 409 ]
manual_done() { [ "$(q "$MDB" "SELECT status FROM housekeep_claims WHERE slot = '$id'")" = ok ]; }
check "the manual run finishes ok" wait_for 120 manual_done
check "one run recorded for it, on daemon 1, in housekeep_runs" \
  [ "$(q "$MDB" "SELECT count(*) FROM housekeep_runs WHERE trigger = '$id' AND status = 'ok' AND pid = ${pids[0]}")" -eq 1 ]
check "no old conversation left" [ "$(q "$MDB" "SELECT count(*) FROM conversations WHERE $old")" -eq 0 ]
code=$(post "${bases[1]}/api/v1/jobs/purge/run" fourth.json)
check "once it finished, daemon 2 takes the job ($code)" [ "$code" = 202 ]
stop_replicas
finish
