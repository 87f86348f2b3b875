#!/usr/bin/env bash
# Scheduling from the command line: the `cron next` output contract, its answers checked
# against systemd's own calendar engine, `run --job`, `scheduler-info` (table, JSON, --check
# on failed and late jobs) and its crontab and systemd exports, verified by systemd-analyze.
. "$(dirname "$0")/lib.sh"

# --- cron next: exactly --count lines of ISO-8601 with the zone's offset, after --from ---
iso='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}$'
expect 0 "" "$HK" cron next "*/15 * * * *"
check "default count is 5 lines" [ "$(wc -l <out)" -eq 5 ]
check "every line is ISO-8601 with an offset" sh -c "! grep -vqE '$iso' $WORK/out"
check "UTC is written +00:00, never Z" sh -c "grep -q '+00:00$' $WORK/out && ! grep -q Z $WORK/out"
check "nothing on stderr" [ ! -s err ]

expect 0 "" "$HK" cron next "0 2 * * *" --tz America/New_York --from 2026-03-07T12:00:00-05:00 --count 3
check "spring-forward night fires once, after the gap" diff out - <<'EOF'
2026-03-08T03:00:00-04:00
2026-03-09T02:00:00-04:00
2026-03-10T02:00:00-04:00
EOF
expect 0 "" "$HK" cron next "30 1 * * *" --tz America/New_York --from 2026-10-31T12:00 --count 2
check "fall-back night fires once, at the first 01:30" diff out - <<'EOF'
2026-11-01T01:30:00-04:00
2026-11-02T01:30:00-05:00
EOF
expect 0 "" "$HK" cron next "0 0 * * *" --from 2026-06-15T00:00:00Z --count 1
check "strictly after --from" [ "$(cat out)" = "2026-06-16T00:00:00+00:00" ]
expect 0 "" "$HK" cron next "0 0 29 2 1" --from 2026-01-01T00:00:00Z --count 2
check "sparse: 29 February or any Monday in February (cron ORs the day fields)" diff out - <<'EOF'
2026-02-02T00:00:00+00:00
2026-02-09T00:00:00+00:00
EOF
expect 0 "" "$HK" cron next "0 0 29 2 *" --from 2026-01-01T00:00:00Z --count 2
check "sparse: only 29 February, leap years only" diff out - <<'EOF'
2028-02-29T00:00:00+00:00
2032-02-29T00:00:00+00:00
EOF
expect 0 "" "$HK" --json cron next "@daily" --count 2 --from 2026-06-15T08:00:00+02:00 --tz Europe/Berlin
check "cron next --json" jq -e '.ok and (.next | length == 2) and .next[0] == "2026-06-16T00:00:00+02:00"' out

expect 64 "5 fields" "$HK" cron next "0 2 * *"
expect 64 "not supported" "$HK" cron next "0 0 L * *"
expect 64 "not supported" "$HK" cron next "@reboot"
expect 64 "unknown time zone" "$HK" cron next "0 2 * * *" --tz Mars/Olympus
expect 64 "" "$HK" cron next "0 2 * * *" --from yesterday
expect 64 "never" "$HK" cron next "0 0 31 2 *"

expect 0 "" "$HK" cron explain "0 3 * * sun"
check "explain in words" grep -q "At 03:00, only on Sunday" out
check "explain lists the next 5" [ "$(grep -cE '^  [0-9]{4}-' out)" -eq 5 ]

# --- cron next against systemd's calendar engine (an independent implementation) ---
if command -v systemd-analyze >/dev/null 2>&1; then
  # EXPRESSION | ZONE | OnCalendar spec with the same meaning (hours away from DST changes)
  while IFS='|' read -r expr zone spec; do
    "$HK" cron next "$expr" --tz "$zone" --from 2026-01-01T00:00:00Z --count 12 >ours 2>err
    TZ=UTC systemd-analyze calendar --iterations=12 --base-time='2026-01-01 00:00:00 UTC' "$spec" 2>/dev/null |
      sed -nE 's/.*(Next elapse|Iter\. #[0-9]+): [A-Za-z]{3} ([0-9-]+) ([0-9:]+) UTC.*/\2T\3Z/p' >theirs
    # Both lists as UTC instants, one per line.
    while read -r t; do date -u -d "$t" +%Y-%m-%dT%H:%M:%SZ; done <ours >ours.utc
    checks=$((checks + 1))
    if [ "$(wc -l <theirs)" -ne 12 ] || ! diff -q ours.utc theirs >/dev/null; then
      fail "cron next '$expr' in $zone differs from systemd's '$spec': $(diff ours.utc theirs | head -4)"
    fi
  done <<'EOF'
*/15 9-17 * * mon-fri|UTC|Mon..Fri *-*-* 09..17:00/15:00 UTC
0 2 * * *|Europe/Berlin|*-*-* 02:00:00 Europe/Berlin
0 12 1,15 * *|America/New_York|*-*-01,15 12:00:00 America/New_York
30 4 * jan,jul sat|Asia/Tokyo|Sat *-01,07-* 04:30:00 Asia/Tokyo
0 0 29 2 *|UTC|*-02-29 00:00:00 UTC
5 */6 * * *|Australia/Sydney|*-*-* 00/6:05:00 Australia/Sydney
0 3 * * 7|UTC|Sun *-*-* 03:00:00 UTC
EOF
fi

# --- jobs in a configuration ---
APP=$(db app)
"$HK" --db "$APP" demo --rows 2000 -q
cat >hk.toml <<'EOF'
[jobs.nightly]
task = "all"
schedule = "0 2 * * *"
timezone = "Europe/Berlin"

[jobs.statistics]
task = "stats"
schedule = "@every 6h"

[jobs.weekly_cleanup]
task = "conversations"
schedule = "0 3 * * sun"

[jobs.paused]
task = "users"
schedule = "15 4 * * *"
enabled = false
EOF
HKC=("$HK" --config hk.toml --db "$APP")

expect 0 "" "${HKC[@]}" scheduler-info
check "table lists every job" sh -c "grep -q '^nightly ' $WORK/out && grep -q '^statistics ' $WORK/out && grep -q '^weekly_cleanup ' $WORK/out && grep -q '^paused ' $WORK/out"
check "never-run jobs say so" grep -qE '^nightly .*never-run' out
check "disabled jobs say so" grep -qE '^paused .*disabled' out
expect 0 "" "${HKC[@]}" scheduler-info --check
check "never-run is not unhealthy" [ $? -eq 0 ]
expect 0 "" "${HKC[@]}" scheduler-info --count 3 --json
check "json: four jobs, three next times each" jq -e '(.jobs | length == 4) and all(.jobs[]; .next | length == 3)' out
check "json: next times in the job's zone" jq -e '.jobs[0].next[0] | test("T02:00:00\\+0[12]:00$")' out

# run --job runs the job's task now, recorded under the job's name.
expect 0 "" "${HKC[@]}" run --job weekly_cleanup --quiet
check "run --job recorded under the job" [ "$(q "$APP" "SELECT job || ':' || task || ':' || status FROM housekeep_runs")" = "weekly_cleanup:conversations:ok" ]
check "run --job deleted what the task deletes" [ "$(q "$APP" "SELECT count(*) FROM conversations WHERE created_at < $(days_before "$(date -u '+%F %T')" 30)")" = 0 ]
expect 0 "" "${HKC[@]}" scheduler-info --json
check "last run shown" jq -e '.jobs[2].last_run.status == "ok" and .jobs[2].health == "ok"' out
expect 0 "" "${HKC[@]}" history --job weekly_cleanup
check "history --job" grep -q conversations out
expect 64 "unknown job 'nightlly'" "${HKC[@]}" run --job nightlly
check "unknown job suggests" grep -q "did you mean 'nightly'" err
expect 64 "not both" "${HKC[@]}" run --job nightly --task stats
expect 64 "--task is required" "${HKC[@]}" run

# A failed last run makes --check exit 1 naming the job.
expect 0 "" "${HKC[@]}" run --job statistics --quiet
q "$APP" "UPDATE housekeep_runs SET status = 'failed', error = 'disk I/O error' WHERE job = 'statistics'"
expect 1 "job 'statistics' is failed" "${HKC[@]}" scheduler-info --check
check "the reason is the recorded error" grep -q "disk I/O error" err
expect 1 "" "${HKC[@]}" --json scheduler-info --check
check "json ok is false on a failed check" jq -e '.ok == false' out

# A success too long ago makes the job late.
q "$APP" "UPDATE housekeep_runs SET status = 'ok', error = NULL WHERE job = 'statistics'"
expect 0 "" "${HKC[@]}" scheduler-info --check
utc() { date -u -d "$1" '+%Y-%m-%dT%H:%M:%S.000Z'; }
q "$APP" "UPDATE housekeep_runs SET started_at = '$(utc '8 hours ago')', finished_at = '$(utc '8 hours ago')' WHERE job = 'statistics'"
expect 1 "job 'statistics' is late" "${HKC[@]}" scheduler-info --check
q "$APP" "UPDATE housekeep_runs SET started_at = '$(utc '6 hours 30 minutes ago')' WHERE job = 'statistics'"
expect 0 "" "${HKC[@]}" scheduler-info --check
check "within misfire_grace (1h) is not late" [ $? -eq 0 ]

# --- exports ---
expect 0 "" "${HKC[@]}" scheduler-info --format crontab
check "crontab: zone per job" grep -q '^CRON_TZ=Europe/Berlin$' out
# The database as given: a path made absolute, a URL quoted for the shell.
if [ "$ENGINE" = sqlite ]; then db_arg=$WORK/app.db; else db_arg="'$APP'"; fi
check "crontab: nightly line" grep -qE "^0 2 \* \* \* .*/housekeep --config $WORK/hk.toml --db .* run --job nightly --quiet$" out
check "crontab: the database as given" grep -qF -- "/housekeep --config $WORK/hk.toml --db $db_arg run --job nightly --quiet" out
check "crontab: @every 6h as a clock-anchored step" grep -qE '^0 \*/6 \* \* \* .* run --job statistics --quiet$' out
check "crontab: disabled job commented out" grep -qE '^# disabled \(enabled = false\): 15 4 \* \* \* ' out
check "crontab: every active line has 5 fields and a command" \
  sh -c "grep -vE '^(#|CRON_TZ=|$)' $WORK/out | awk 'NF < 6 { exit 1 }'"

expect 0 "" "${HKC[@]}" scheduler-info --format systemd
mkdir -p units
awk '/^# housekeep-.*\.(service|timer)$/ { f = "units/" $2; next } f { print > f }' out
check "systemd: a service and a timer per enabled job (the disabled one has none)" [ "$(ls units | wc -l)" -eq 6 ]
check "systemd: the timer fires in the job's zone" grep -q '^OnCalendar=\*-\*-\* 02:00:00 Europe/Berlin$' units/housekeep-nightly.timer
check "systemd: the service runs the job" grep -qE "^ExecStart=.*/housekeep --config $WORK/hk.toml --db .* run --job nightly$" units/housekeep-nightly.service
check "systemd: the database as given" grep -qF -- "/housekeep --config $WORK/hk.toml --db $db_arg run --job nightly" units/housekeep-nightly.service
if command -v systemd-analyze >/dev/null 2>&1; then
  check "systemd-analyze verify accepts every unit" systemd-analyze verify --man=no units/*.timer units/*.service
fi

# A job with a schedule or zone that cannot work is a configuration error at load time.
printf '[jobs.bad]\ntask = "stats"\nschedule = "0 25 * * *"\n' >bad.toml
expect 78 "bad.toml:3:12" "$HK" --config bad.toml --db "$APP" scheduler-info
printf '[jobs.bad]\ntask = "stats"\nschedule = "0 2 * * *"\ntimezone = "Europe/Atlantis"\n' >bad.toml
expect 78 "Europe/Atlantis" "$HK" --config bad.toml --db "$APP" scheduler-info
printf '[jobs.bad]\ntask = "stats"\nschedule = "0 2 * * *"\ncatchup = "once"\n' >bad.toml
expect 78 "did you mean 'catch_up'" "$HK" --config bad.toml --db "$APP" scheduler-info
# Vixie cron's day rule: a day field that starts with '*' still filters by its step, and then
# both day fields must match. `cron next`, the daemon's plan (scheduler-info) and the systemd
# export (evaluated by systemd's own calendar arithmetic) agree.
DAYS=$(db days)
"$HK" --db "$DAYS" demo --rows 100 -q
cat > days.toml <<'TOML'
[jobs.odd_days]
task = "stats"
schedule = "0 0 */2 * *"

[jobs.odd_mondays]
task = "stats"
schedule = "0 0 */2 * mon"

[jobs.first_or_monday]
task = "stats"
schedule = "0 0 1,15 * mon"
TOML
"$HK" -c days.toml --db "$DAYS" scheduler-info --format systemd >units.txt
check "the export uses one line for an AND of the day fields" grep -q '^OnCalendar=Mon \*-\*-01,03,05,.*,31 00:00:00 UTC$' units.txt
for job in odd_days odd_mondays first_or_monday; do
  expr=$(sed -n "/^\[jobs.$job\]/,/^\[/s/^schedule = \"\(.*\)\"$/\1/p" days.toml)
  expect 0 "" "$HK" cron next "$expr" --from 2026-01-01T00:00:00 --count 8
  cp out cron.txt
  : >systemd.txt
  sed -n "/^# housekeep-$job.timer/,/^# /s/^OnCalendar=//p" units.txt | while read -r spec; do
    systemd-analyze calendar --iterations=8 --base-time='2026-01-01 00:00:00 UTC' "$spec" |
      sed -nE 's/^ *(Next elapse|Iter\. #[0-9]+): [A-Z][a-z]{2} ([0-9-]+) ([0-9:]+) UTC$/\2T\3+00:00/p' >>systemd.txt
  done
  sort -u systemd.txt | head -8 >systemd8.txt
  check "'$expr': systemd's calendar arithmetic on the export fires as cron next does: $(paste -d' ' cron.txt systemd8.txt | head -3)" \
    cmp -s cron.txt systemd8.txt
  for _ in 1 2; do # the plan and cron next are read a moment apart: a firing may fall between
    "$HK" -c days.toml --db "$DAYS" scheduler-info --format json --count 4 | jq -r ".jobs[] | select(.name == \"$job\") | .next[]" >plan.txt
    "$HK" cron next "$expr" --count 4 >now.txt
    cmp -s plan.txt now.txt && break
  done
  check "'$expr': the daemon's plan fires as cron next does" cmp -s plan.txt now.txt
done
case "$("$HK" cron explain '0 0 */2 * mon' | head -1)" in
  "At 00:00, every 2nd day of the month (from the 1st), if it is a Monday") ok ;;
  *) fail "cron explain '0 0 */2 * mon': $("$HK" cron explain '0 0 */2 * mon' | head -1)" ;;
esac
check "the odd days of January 2026" [ "$("$HK" cron next '0 0 */2 * *' --from 2026-01-01T00:00:00 --count 3 | tr '\n' ' ')" = \
  "2026-01-03T00:00:00+00:00 2026-01-05T00:00:00+00:00 2026-01-07T00:00:00+00:00 " ]
check "odd Mondays only" [ "$("$HK" cron next '0 0 */2 * mon' --from 2026-01-01T00:00:00 --count 3 | tr '\n' ' ')" = \
  "2026-01-05T00:00:00+00:00 2026-01-19T00:00:00+00:00 2026-02-09T00:00:00+00:00 " ]
# Disabled jobs never run on a schedule: left out of the systemd export, commented in the
# crontab; `run --job` of one needs --force; '%' escaped for cron ('\%') and systemd ('%%').
printf '[jobs.off]\ntask = "stats"\nschedule = "0 2 * * *"\nenabled = false\n\n[jobs.on]\ntask = "stats"\nschedule = "0 3 * * *"\n' >'per%cent.toml'
expect 0 "" "$HK" -c 'per%cent.toml' --db "$DAYS" scheduler-info --format crontab
check "a disabled job's crontab line is commented" grep -q '^# disabled (enabled = false): 0 2 \* \* \* .* run --job off' out
check "'%' is escaped in crontab lines" grep -q '^0 3 \* \* \* .*per\\%cent.toml .*run --job on' out
expect 0 "" "$HK" -c 'per%cent.toml' --db "$DAYS" scheduler-info --format systemd
check "a disabled job has no units" [ "$(grep -c '^# housekeep-off\.\(service\|timer\)' out)" = 0 ]
check "'%' is doubled in ExecStart=" grep -q '^ExecStart=.*per%%cent.toml .*run --job on$' out
mkdir -p pct && awk '/^# housekeep-.*\.(service|timer)$/ { f = "pct/" $2; next } f { print > f }' out
check "systemd-analyze verify accepts the units with '%%'" systemd-analyze verify --man=no pct/*.timer pct/*.service
expect 64 "job 'off' is disabled (enabled = false in per%cent.toml)" "$HK" -c 'per%cent.toml' --db "$DAYS" run --job off
expect 0 "running it as asked (--force)" "$HK" -c 'per%cent.toml' --db "$DAYS" run --job off --force
expect 64 "--allow-empty cannot be used with --job" "$HK" -c 'per%cent.toml' --db "$DAYS" run --job on --allow-empty
# The largest interval accepted (100 years) neither overflows nor spins; one more day is refused.
printf '[jobs.huge]\ntask = "stats"\nschedule = "@every 36600d"\n' >huge.toml
expect 0 "" timeout 10 "$HK" -c huge.toml --db "$DAYS" scheduler-info --count 3 --format json
check "three firings a century apart, going forward" jq -e '[.jobs[] | select(.name == "huge") | .next[]] as $n | ($n | length) == 3 and $n == ($n | sort)' out
expect 0 "" timeout 10 "$HK" cron next '@every 36600d' --count 3
check "cron next goes forward" [ "$(sort out)" = "$(cat out)" ]
expect 0 "" timeout 10 "$HK" -c huge.toml --db "$DAYS" daemon --once
check "the daemon did not run the job" [ "$(q "$DAYS" "SELECT count(*) FROM housekeep_runs WHERE job = 'huge'")" = 0 ]
printf '[jobs.huge]\ntask = "stats"\nschedule = "@every 36601d"\n' >huge.toml
expect 78 "longer than 100 years" "$HK" -c huge.toml --db "$DAYS" config check
# 'local' follows $TZ as the C library does.
expect 0 "" env TZ=America/New_York "$HK" cron next '0 2 * * *' --tz local --from 2026-12-03T00:00:00Z --count 1
check "TZ=America/New_York: local is New York" grep -qx "2026-12-03T02:00:00-05:00" out
expect 0 "" env TZ=:Asia/Tokyo "$HK" cron next '0 2 * * *' --tz local --from 2026-12-03T00:00:00Z --count 1
check "TZ=:Asia/Tokyo: local is Tokyo" grep -qx "2026-12-04T02:00:00+09:00" out
expect 0 "" env TZ= "$HK" cron next '0 2 * * *' --tz local --from 2026-12-03T00:00:00Z --count 1
check "TZ empty: local is UTC" grep -qx "2026-12-03T02:00:00+00:00" out
expect 64 "TZ='CET-1CEST' names no zone" env TZ=CET-1CEST "$HK" cron next '0 2 * * *' --tz local
printf '[defaults]\ntimezone = "local"\n' >local.toml
expect 0 "" env TZ=Europe/Berlin "$HK" -c local.toml scheduler-info --format systemd
check "a job in local runs in the zone of TZ" grep -q "OnCalendar=.* Europe/Berlin" out
finish
