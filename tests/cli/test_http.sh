#!/usr/bin/env bash
# The daemon's status API, tested with curl against a running daemon: probes, the status
# document equal to scheduler-info's, history, /metrics read by Prometheus's own parser
# (python3-prometheus-client), the token, refusals; then malformed and oversized requests
# while the daemon keeps firing.
. "$(dirname "$0")/lib.sh"
need_python prometheus_client
command -v curl >/dev/null || skip "curl is not installed"

pids=()
trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$WORK"' EXIT

# serve LOG ARGS...: starts a daemon with the API on a port the system picks; its base URL in
# $base, its pid in $daemon_pid.
serve() {
  local log=$1
  shift
  "$HK" "$@" daemon --listen "${LISTEN:-127.0.0.1:0}" 2>"$log" &
  daemon_pid=$!
  pids+=("$daemon_pid")
  wait_for 5 grep -q "serving the status API on http://" "$log"
  base=$(grep -o "http://[^ ]*" "$log" | head -1)
  base=${base/0.0.0.0/127.0.0.1}
}
stop() {
  kill -TERM "$daemon_pid"
  wait "$daemon_pid"
  stop_rc=$?
}
# http PATH [CURL ARGS...]: the status code in $code, the body in body.txt, headers in headers.txt.
http() {
  local path=$1
  shift
  code=$(curl -s --path-as-is -o body.txt -D headers.txt -w '%{http_code}' "$@" "$base$path")
}

"$HK" --db app.db demo --rows 200 -q
cat >night.toml <<'EOF'
[jobs.nightly]
task = "stats"
schedule = "0 2 * * *"
EOF
"$HK" --db app.db -c night.toml run --job nightly -q
serve night.log --db app.db -c night.toml
check "the daemon says where it serves ($base)" [ -n "$base" ]

http /healthz
check "/healthz: 200 ($code)" [ "$code" = 200 ]
check "/healthz: the loop is waiting for the job" jq -e '.ok and (.loop | startswith("waiting for nightly at"))' body.txt
check "security headers on every response" sh -c "grep -qi '^Content-Security-Policy: default-src .none.' headers.txt && grep -qi '^X-Content-Type-Options: nosniff' headers.txt"
http /readyz
check "/readyz: 200 with the database ($code)" [ "$code" = 200 ] && jq -e '.ok and .database == "app.db"' body.txt >/dev/null

http /api/v1/status
check "/api/v1/status: 200 ($code)" [ "$code" = 200 ]
"$HK" --db app.db -c night.toml --json scheduler-info >info.json
stable='del(.daemon.replicas[].heartbeat_age_ms)'
check "/api/v1/status is the document scheduler-info --format json prints" \
  sh -c "[ \"\$(jq -S '$stable' body.txt)\" = \"\$(jq -S '$stable' info.json)\" ]"
check "status: this daemon running, the job with its last run" \
  jq -e --argjson pid "$daemon_pid" '.daemon.replicas[0].pid == $pid and .daemon.replicas[0].state == "running" and .jobs[0].name == "nightly" and .jobs[0].last_run.status == "ok"' body.txt

http "/api/v1/history?limit=1"
check "/api/v1/history?limit=1: one run, the job's" jq -e '(.runs | length) == 1 and .runs[0].job == "nightly"' body.txt
"$HK" --db app.db --json history --limit 1 >history.json
check "/api/v1/history is what history --json prints" sh -c "[ \"\$(jq -S . body.txt)\" = \"\$(jq -S . history.json)\" ]"
http "/api/v1/history?limit=abc"
check "/api/v1/history?limit=abc: 400 ($code)" [ "$code" = 400 ]
http "/api/v1/history?limit=0"
check "/api/v1/history?limit=0: 400 ($code)" [ "$code" = 400 ]

http /metrics
check "/metrics: text exposition ($code)" sh -c "[ $code = 200 ] && grep -qi '^Content-Type: text/plain; version=0.0.4' headers.txt"
cat >parse.py <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
values = {}
for family in text_string_to_metric_families(open(sys.argv[1]).read()):
    for sample in family.samples:
        values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
def get(name, **labels):
    return values.get((name, tuple(sorted(labels.items()))))
assert get("housekeep_replicas_running") == 1, values
assert get("housekeep_job_healthy", job="nightly") == 1
assert get("housekeep_job_last_run_success", job="nightly") == 1
assert get("housekeep_job_running", job="nightly") == 0
assert get("housekeep_job_missed_slots", job="nightly") == 0
assert get("housekeep_job_last_success_timestamp_seconds", job="nightly") > 1.7e9
assert get("housekeep_job_next_run_timestamp_seconds", job="nightly") > get("housekeep_job_last_success_timestamp_seconds", job="nightly")
print(len(values), "samples")
PY
check "/metrics parsed by prometheus_client, values as expected: $("$PYTHON" parse.py body.txt 2>&1 | tail -1)" "$PYTHON" parse.py body.txt

http /nope
check "unknown path: 404 ($code)" [ "$code" = 404 ]
http /api/v1/../../../etc/passwd
check "path traversal: 404 ($code)" [ "$code" = 404 ]
check "path traversal: nothing of the file" sh -c "! grep -q 'root:' body.txt"
http /api/v1/status -X POST -H 'Content-Type: application/json' --data '{"dry_run": tru'
check "POST with bad JSON to a read endpoint: 405 ($code)" [ "$code" = 405 ]
http /api/v1/status -X DELETE
check "DELETE: 405 ($code)" [ "$code" = 405 ]
http /api/v1/jobs/nightly/run -X POST
check "manual runs without a token configured: 404 ($code)" [ "$code" = 404 ]
check "saying they need [http] token_file" jq -e '.error | contains("token_file")' body.txt
stop
check "SIGTERM with the server running: exit 0" [ "$stop_rc" -eq 0 ]

# --- malformed and oversized requests while an every-second job keeps firing ---
cat >tick.toml <<'EOF'
[jobs.tick]
task = "stats"
schedule = "* * * * * *"
EOF
serve tick.log --db app.db -c tick.toml
port=${base##*:}
runs() { q app.db "SELECT count(*) FROM housekeep_runs WHERE job = 'tick'"; }
before=$(runs)
huge=$(head -c 40000 /dev/zero | tr '\0' 'a')
http /api/v1/status -H "X-Huge: $huge"
check "a 40 kB header is refused ($code)" [ "$code" != 200 ]
http /api/v1/status -X POST --data-binary @<(head -c 100000 /dev/zero | tr '\0' 'x')
check "a 100 kB body is refused ($code)" [ "$code" = 413 ] || [ "$code" = 405 ] || [ "$code" = 000 ]
for request in 'GARBAGE\r\n\r\n' 'GET\r\n\r\n' 'GET /healthz HTTP/9.9\r\n\r\n' '\x00\x01\x02\xff\r\n\r\n' 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n'; do
  timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; printf '$request' >&3; cat <&3 >/dev/null" 2>/dev/null
done
# More connections at once than the server takes, each held open.
for _ in $(seq 40); do
  timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; sleep 2" 2>/dev/null &
done
sleep 2.5
wait_for 5 sh -c "curl -s $base/healthz | jq -e .ok"
http /healthz
check "after the abuse the API still answers ($code)" [ "$code" = 200 ]
sleep 2
after=$(runs)
check "and the daemon kept firing ($before runs, then $after)" [ "$after" -ge $((before + 4)) ]
check "no second ran twice" [ "$(q app.db "SELECT count(*) - count(DISTINCT substr(started_at, 1, 19)) FROM housekeep_runs WHERE job = 'tick'")" -eq 0 ]
stop
check "then stops with 0" [ "$stop_rc" -eq 0 ]

# --- beyond loopback: only with a token, which every read but the probes then needs ---
expect 78 "refusing to serve the status API on 0.0.0.0:0 without a token" "$HK" --db app.db -c night.toml daemon --listen 0.0.0.0:0
expect 64 "listen address 'nowhere' has no port" "$HK" --db app.db -c night.toml daemon --listen nowhere
printf 'short\n' >short.token
printf '[http]\ntoken_file = "%s/short.token"\n' "$WORK" >short.toml
cat night.toml >>short.toml
expect 78 "holds 5 characters; a token needs at least 16" "$HK" --db app.db -c short.toml daemon --listen 0.0.0.0:0
head -c 24 /dev/urandom | base64 >good.token
chmod 600 good.token
printf '[http]\ntoken_file = "%s/good.token"\n' "$WORK" >token.toml
cat night.toml >>token.toml
LISTEN=0.0.0.0:0 serve token.log --db app.db -c token.toml
token=$(cat good.token)
http /healthz
check "with a token, /healthz needs none ($code)" [ "$code" = 200 ]
http /api/v1/status
check "without the token: 401 ($code)" [ "$code" = 401 ]
http /api/v1/status -H "Authorization: Bearer wrong-token-of-some-length"
check "with a wrong token: 403 ($code)" [ "$code" = 403 ]
http /api/v1/status -H "Authorization: Bearer $token"
check "with the token: 200 ($code)" [ "$code" = 200 ]
http /metrics -H "Authorization: Bearer $token"
check "/metrics with the token: 200 ($code)" [ "$code" = 200 ]
stop

# --- manual runs: only with the token, through the job's claim ---
"$HK" --db slow.db demo --rows 10000 -q
cat >manual.toml <<EOF
[http]
token_file = "$WORK/good.token"

[defaults]
batch_size = 10
sleep = "100ms"

[jobs.sweep]
task = "conversations"
schedule = "* * * * * *"
enabled = false
EOF
serve manual.log --db slow.db -c manual.toml
auth="Authorization: Bearer $token"
old="SELECT count(*) FROM conversations WHERE created_at < datetime('now', '-30 days')"
old_before=$(q slow.db "$old")
all_before=$(q slow.db "SELECT count(*) FROM conversations")
http /api/v1/jobs/sweep/run -X POST
check "a manual run without the token: 401 ($code)" [ "$code" = 401 ]
http /api/v1/jobs/sweep/run -X POST -H "Authorization: Bearer wrong-token-of-some-length"
check "with a wrong token: 403 ($code)" [ "$code" = 403 ]
http /api/v1/jobs/sweep/run -H "$auth"
check "GET of a run endpoint: 405 ($code)" sh -c "[ $code = 405 ] && grep -qi '^Allow: POST' headers.txt"
http /api/v1/jobs/nope/run -X POST -H "$auth"
check "an unknown job: 404 ($code)" sh -c "[ $code = 404 ] && jq -e '.error | contains(\"nope\")' body.txt"
http /api/v1/tasks/nope/run -X POST -H "$auth"
check "an unknown task: 404 ($code)" [ "$code" = 404 ]
http /api/v1/jobs/sweep/run -X POST -H "$auth" --data '{"dry_run": tru'
check "bad JSON: 400 ($code)" [ "$code" = 400 ]
http /api/v1/jobs/sweep/run -X POST -H "$auth" --data '{"dry": true}'
check "an unknown key: 400 ($code)" [ "$code" = 400 ]
http /api/v1/jobs/sweep/run -X POST -H "$auth" --data '{"dry_run": "yes"}'
check "dry_run not a boolean: 400 ($code)" [ "$code" = 400 ]
check "nothing was claimed for any of them" [ "$(q slow.db "SELECT count(*) FROM sqlite_master WHERE name = 'housekeep_claims'")" -eq 0 ]

finished() { curl -s -H "$auth" "$base/api/v1/runs/$1" | jq -e '.state == "finished"' >/dev/null; }
http /api/v1/jobs/sweep/run -X POST -H "$auth" --data '{"dry_run": true}'
dry=$(jq -r .id body.txt)
check "a dry run: 202 with its id ($code, $dry)" sh -c "[ $code = 202 ] && [ '${dry#manual:}' != '$dry' ]"
check "the dry run finishes" wait_for 30 finished "$dry"
curl -s -H "$auth" "$base/api/v1/runs/$dry" >dry.json
check "its report counts the $old_before old conversations it would delete" \
  jq -e --argjson n "$old_before" '.status == "ok" and .report.dry_run and .report.tasks[0].deleted.conversations == $n' dry.json
check "and it deleted nothing" [ "$(q slow.db "SELECT count(*) FROM conversations")" -eq "$all_before" ]

http /api/v1/jobs/sweep/run -X POST -H "$auth"
id=$(jq -r .id body.txt)
check "a manual run: 202 with its id ($code, $id)" [ "$code" = 202 ]
check "and where to follow it" grep -qi "^Location: /api/v1/runs/$id" headers.txt
http /api/v1/jobs/sweep/run -X POST -H "$auth"
check "the job again while it runs: 409 ($code)" sh -c "[ $code = 409 ] && jq -e --arg id '$id' '.error | contains(\$id)' body.txt"
http /api/v1/tasks/conversations/run -X POST -H "$auth"
check "its task while it runs: 409 ($code)" [ "$code" = 409 ]
running_shown() {
  "$HK" --db slow.db -c manual.toml --json status >status.json 2>/dev/null &&
    jq -e --arg id "$id" '.running | map(select(.job == "sweep" and .slot == $id)) | length == 1' status.json
}
check "status shows it running" wait_for 5 running_shown
"$HK" --db slow.db -c manual.toml status >status.txt 2>&1
check "status's table names the manual run" grep -q "^running: sweep ($id, asked of the status API) on pid $daemon_pid" status.txt
# The schedule turned on while it runs: each slot due meanwhile is skipped and counted missed.
sed -i 's/^enabled = false/enabled = true/' manual.toml
kill -HUP "$daemon_pid"
sleep 3
check "the job's slots due meanwhile did not run" [ "$(q slow.db "SELECT count(*) FROM housekeep_runs WHERE trigger = 'schedule'")" -eq 0 ]
check "and were recorded missed ($(q slow.db "SELECT count(*) FROM housekeep_claims WHERE status = 'missed'"))" \
  [ "$(q slow.db "SELECT count(*) FROM housekeep_claims WHERE status = 'missed'")" -ge 2 ]
check "with a warning naming the manual run" grep -q "skipped the firing due .*: a manual run of the job ($id" manual.log
check "the manual run finishes" wait_for 60 finished "$id"
missed=$(q slow.db "SELECT count(*) FROM housekeep_claims WHERE status = 'missed'")
check "housekeep_jobs counts the $missed missed slots" [ "$(q slow.db "SELECT missed FROM housekeep_jobs WHERE job = 'sweep'")" -eq "$missed" ]
"$HK" --db slow.db --json history --limit 50 >history.json
check "history shows the manual run, by its id" \
  jq -e --arg id "$id" '.runs | map(select(.trigger == $id and .job == "sweep" and .task == "conversations" and .status == "ok")) | length == 1' history.json
check "no old conversation left" [ "$(q slow.db "$old")" -eq 0 ]
check "its claim is finished ok" [ "$(q slow.db "SELECT status FROM housekeep_claims WHERE slot = '$id'")" = ok ]
check "no error logged $(grep -m1 'housekeep: error:' manual.log)" sh -c "! grep -q 'housekeep: error:' manual.log"
stop
check "SIGTERM with manual runs served: exit 0" [ "$stop_rc" -eq 0 ]
finish
