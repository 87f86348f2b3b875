#!/usr/bin/env bash
# Reporting: --metrics-file (Prometheus text, replaced atomically), --statsd (UDP packets
# received on loopback), and on_failure / on_success hooks (their environment, their
# timeout, and that they never change the run's exit status).
. "$(dirname "$0")/lib.sh"

APP=$(db app)
"$HK" --db "$APP" demo --rows 5000 -q
FRESH=$(copy_db "$APP" fresh)

# --- metrics file ---
before=$(q "$APP" "SELECT count(*) FROM messages")
expect 0 "" "$HK" --db "$APP" run --task all --metrics-file metrics.prom
after=$(q "$APP" "SELECT count(*) FROM messages")
python3 - metrics.prom >parse.out 2>&1 <<'PY'
import re, sys
name = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
label = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
sample = re.compile(rf'^({name})(\{{{label}(?:,{label})*\}})? (-?[0-9.]+(?:e[+-]?[0-9]+)?|NaN|[+-]Inf)$')
typed, helped = set(), set()
for n, line in enumerate(open(sys.argv[1]), 1):
    line = line.rstrip('\n')
    if line.startswith('# HELP '):
        helped.add(line.split()[2]); continue
    if line.startswith('# TYPE '):
        parts = line.split()
        assert parts[3] in ('gauge', 'counter', 'untyped'), f'line {n}: type {parts[3]}'
        typed.add(parts[2]); continue
    m = sample.match(line)
    assert m, f'line {n} is not a sample: {line!r}'
    assert m.group(1) in typed and m.group(1) in helped, f'line {n}: {m.group(1)} has no TYPE/HELP'
print('valid')
PY
check "the metrics file parses as Prometheus text: $(cat parse.out)" grep -qx valid parse.out
messages_deleted=$(sed -nE 's/^housekeep_last_run_deleted_rows\{job="",task="(conversations|messages|users)",table="messages"\} ([0-9]+)$/\2/p' metrics.prom | awk '{ s += $1 } END { print s }')
check "metrics: messages deleted match the database ($messages_deleted = $before - $after)" [ "$messages_deleted" = $((before - after)) ]
check "metrics: every task succeeded" [ "$(grep -c '^housekeep_last_run_success{.*} 1$' metrics.prom)" = 4 ]
check "metrics: stats carried" grep -q '^housekeep_last_run_stat{job="",task="stats",name="total_users"} ' metrics.prom
inode=$(stat -c %i metrics.prom)
expect 0 "" "$HK" --db "$APP" run --task stats --metrics-file metrics.prom
check "metrics: the file is replaced (rename), not rewritten in place" [ "$(stat -c %i metrics.prom)" != "$inode" ]
check "metrics: no temporary file left behind" [ -z "$(ls | grep 'metrics.prom.tmp')" ]
expect 0 "cannot write metrics file" "$HK" --db "$APP" run --task stats --metrics-file no-such-dir/m.prom

# --- statsd ---
python3 - >statsd.out <<'PY' &
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 0))
open('statsd.port', 'w').write(str(s.getsockname()[1]))
s.settimeout(0.5)
end = time.time() + 10
while time.time() < end and not __import__('os').path.exists('statsd.done'):
    try:
        data, _ = s.recvfrom(65535)
        print(data.decode(), flush=True)
    except socket.timeout:
        pass
PY
listener=$!
for _ in $(seq 1 50); do [ -s statsd.port ] && break; sleep 0.1; done
STATSD=$(copy_db "$FRESH" statsd)
before=$(q "$STATSD" "SELECT count(*) FROM messages WHERE conversation_id IS NULL OR conversation_id NOT IN (SELECT id FROM conversations)")
expect 0 "" "$HK" --db "$STATSD" run --task messages --statsd "127.0.0.1:$(cat statsd.port)"
sleep 0.3
touch statsd.done
wait "$listener"
check "statsd: the deleted count arrives ($before orphans): $(tr '\n' ' ' <statsd.out)" grep -qx "housekeep.deleted.messages:$before|c" statsd.out
check "statsd: the status counter arrives" grep -qx "housekeep.run.messages.ok:1|c" statsd.out
check "statsd: the timing arrives" grep -qE '^housekeep.run.messages.duration:[0-9]+\|ms$' statsd.out
expect 64 "is not HOST:PORT" "$HK" --db "$STATSD" run --task stats --statsd nonsense

# --- hooks ---
cat >hooks.toml <<'TOML'
[defaults]
on_success = "env | grep ^HOUSEKEEP_ | sort > success.env"
on_failure = "env | grep ^HOUSEKEEP_ | sort > failure.env; exit 1"
hook_timeout = "2s"

[tasks.messages]
parent = "no_such_table"

[jobs.nightly]
task = "conversations"
schedule = "0 2 * * *"
on_success = "echo \"$HOUSEKEEP_JOB $HOUSEKEEP_STATUS $HOUSEKEEP_DELETED_TOTAL\" > job.env"
TOML
HOOKS=$(copy_db "$FRESH" hooks)
expect 0 "" "$HK" --db "$HOOKS" -c hooks.toml run --task stats
check "on_success ran with the run's facts" grep -qx "HOUSEKEEP_STATUS=ok" success.env
check "on_success: tasks named" grep -qx "HOUSEKEEP_TASKS=stats" success.env
check "on_success: exit code 0" grep -qx "HOUSEKEEP_EXIT_CODE=0" success.env
check "on_success: the database named" grep -qxF "HOUSEKEEP_DATABASE=$HOOKS" success.env
check "on_success: a duration" grep -qE '^HOUSEKEEP_DURATION_MS=[0-9]+$' success.env
expect 65 "no_such_table" "$HK" --db "$HOOKS" -c hooks.toml run --task messages
check "on_failure ran; its own failure did not change the exit status (65)" grep -qx "HOUSEKEEP_STATUS=failed" failure.env
check "on_failure: exit code 65" grep -qx "HOUSEKEEP_EXIT_CODE=65" failure.env
check "on_failure: the error" grep -q "^HOUSEKEEP_ERROR=.*no_such_table" failure.env
expect 0 "" "$HK" --db "$HOOKS" -c hooks.toml run --job nightly
gone=$(( $(q "$FRESH" "SELECT (SELECT count(*) FROM conversations) + (SELECT count(*) FROM messages)") - $(q "$HOOKS" "SELECT (SELECT count(*) FROM conversations) + (SELECT count(*) FROM messages)") ))
check "a job's own hook replaces the default: $(cat job.env 2>/dev/null)" grep -qx "nightly ok $gone" job.env

printf '[defaults]\non_success = "echo hello from the hook"\n' >chatty.toml
expect 0 "hello from the hook" "$HK" --db "$HOOKS" -c chatty.toml --json run --task stats
check "a hook's output goes to stderr, never into the JSON on stdout" jq -e .ok out
check "a hook's output is logged a line at a time" grep -qx "housekeep: on_success hook: hello from the hook" err
expect 0 "" "$HK" --db "$HOOKS" -c chatty.toml --log-format json run --task stats
check "a hook's output keeps the JSON log a stream of objects" jq -e -s 'any(.[]; .message == "on_success hook: hello from the hook")' err
expect 0 "" "$HK" --db "$HOOKS" -c chatty.toml -q run --task stats
check "with -q a hook's output is not shown" [ ! -s err ]

# HOUSEKEEP_DELETED names each table once; each task has its own variable.
printf '[defaults]\non_success = "env | grep ^HOUSEKEEP_DELETED | sort > all.env"\n' >all.toml
ALL=$(copy_db "$FRESH" all)
expect 0 "" "$HK" --db "$ALL" -c all.toml run --task all
deleted=$(sed -n 's/^HOUSEKEEP_DELETED=//p' all.env)
check "HOUSEKEEP_DELETED: no table twice ($deleted)" [ "$(echo "$deleted" | tr ' ' '\n' | cut -d= -f1 | sort | uniq -d)" = "" ]
check "HOUSEKEEP_DELETED: the messages of every task together" \
  [ "$(echo "$deleted" | tr ' ' '\n' | sed -n 's/^messages=//p')" = "$(( $(q "$FRESH" "SELECT count(*) FROM messages") - $(q "$ALL" "SELECT count(*) FROM messages") ))" ]
check "HOUSEKEEP_DELETED_CONVERSATIONS: that task's tables alone" grep -qE '^HOUSEKEEP_DELETED_CONVERSATIONS=messages=[0-9]+ conversations=[0-9]+$' all.env
check "HOUSEKEEP_DELETED_USERS too" grep -q '^HOUSEKEEP_DELETED_USERS=' all.env

cat >hung.toml <<'TOML'
[defaults]
on_success = "sleep 60 & echo $! > child.pid; wait"
hook_timeout = "1s"
TOML
start=$(date +%s%N)
expect 0 "" "$HK" --db "$HOOKS" -c hung.toml run --task stats
took=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
check "the hung hook was reported" grep -q "on_success hook .* ended by signal" err
check "a hung hook is killed at its timeout (run took ${took}s)" awk -v t="$took" 'BEGIN { exit !(t < 5) }'
sleep 0.3
child_state=$(ps -o stat= -p "$(cat child.pid)" 2>/dev/null)
check "the hung hook's child was killed with its process group (state '${child_state}')" \
  sh -c "[ -z '$child_state' ] || [ '${child_state#Z}' != '$child_state' ]"

finish
