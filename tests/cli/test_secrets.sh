#!/usr/bin/env bash
# No password anywhere: every output of a run, a failure, the configuration, the exports, the
# archive, the hooks' environment and the history, for each way a URL can carry one.
. "$(dirname "$0")/lib.sh"

"$HK" --db app.db demo --rows 2000 -q
secret=hunter2-s3cr
cat > hooks.toml <<'TOML'
[defaults]
on_success = "env | grep ^HOUSEKEEP_ >> hook-env.txt"
on_failure = "env | grep ^HOUSEKEEP_ >> hook-env.txt"

[jobs.nightly]
task = "all"
schedule = "0 2 * * *"
TOML

# A SQLite URL with a password parameter works, and prints it nowhere.
url="sqlite://app.db?password=$secret"
mkdir -m 700 arch
: >all.txt
record() { cat out err >>all.txt; }
expect 0 "" "$HK" -c hooks.toml --db "$url" --json run --task all --archive arch; record
expect 0 "" "$HK" -c hooks.toml --db "$url" --log-format json -v run --task all --dry-run; record
expect 0 "" "$HK" -c hooks.toml --db "$url" config show; record
check "config show names the database, masked" grep -qF 'url = "sqlite://app.db?password=****"' out
expect 0 "" "$HK" -c hooks.toml --db "$url" config check; record
expect 0 "" "$HK" -c hooks.toml --db "$url" scheduler-info --format crontab; record
expect 0 "" "$HK" -c hooks.toml --db "$url" scheduler-info --format systemd; record
expect 0 "" "$HK" -c hooks.toml --db "$url" --json history; record
expect 0 "" "$HK" -c hooks.toml --db "$url" --json scheduler-info; record
printf '[tasks.conversations]\ntable = "nope"\n' >bad.toml
expect 65 "table 'nope' does not exist" "$HK" -c bad.toml --db "$url" --json run --task conversations; record
check "the run recorded its failure" [ "$(q app.db "SELECT count(*) FROM housekeep_runs WHERE status = 'failed'")" -ge 1 ]
check "the hooks ran" [ -s hook-env.txt ]
check "the archive was written" ls arch/*.jsonl
cat hook-env.txt arch/*.jsonl >>all.txt
q app.db "SELECT * FROM housekeep_runs" >>all.txt
check "no output, hook, archive or history row holds the password" [ "$(grep -c -- "$secret" all.txt)" -eq 0 ]

# Server URLs, whatever characters the password holds: the error, its JSON, the JSON log.
for url in "postgresql://app:pa/ss$secret@db/app" "postgresql://app:p@ss$secret@db/app" \
  "postgresql://db/app?user=app&password=$secret" "postgres://app:$secret?x@db:5432/app?sslmode=require"; do
  expect 64 "****" "$HK" --db "$url" --json run --task stats
  check "'$url': masked in the error and its JSON" [ "$(cat out err | grep -c -- "$secret")" -eq 0 ]
  "$HK" --db "$url" --log-format json run --task stats >out 2>err
  check "'$url': masked in the JSON log" [ "$(cat out err | grep -c -- "$secret")" -eq 0 ]
  expect 0 "" "$HK" --db "$url" config show
  check "'$url': config show masks it" [ "$(cat out err | grep -c -- "$secret")" -eq 0 ]
  expect 0 "" "$HK" --db "$url" scheduler-info --format crontab --count 1 2>/dev/null
  check "'$url': the export masks it" [ "$(cat out err | grep -c -- "$secret")" -eq 0 ]
done
finish
