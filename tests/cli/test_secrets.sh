#!/usr/bin/env bash
# No password anywhere: errors, their JSON, the JSON log, the configuration and the exports,
# for each way a URL can carry one.
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

# A SQLite URL takes no password parameter: refused before anything runs, and masked in
# the refusal. (The outputs of a real run with a password, the hooks' environment, the
# archive and the history, are covered against the PostgreSQL server.)
url="sqlite://app.db?password=$secret"
sum=$(digest app.db)
expect 64 "unknown parameter 'password'" "$HK" -c hooks.toml --db "$url" --json run --task all
check "a SQLite password: masked in the error and its JSON" [ "$(cat out err | grep -c -- "$secret")" -eq 0 ]
check "a SQLite password: nothing ran" [ "$(digest app.db)" = "$sum" ]
check "a SQLite password: no hook ran" [ ! -e hook-env.txt ]
printf '[database]\nurl = "%s"\n' "$url" >secret.toml
expect 78 "secret.toml:2:7: database.url: database URL 'sqlite://app.db?password=****'" "$HK" -c secret.toml config check
check "a SQLite password in the file: masked" [ "$(cat out err | grep -c -- "$secret")" -eq 0 ]

# Server URLs, whatever characters the password holds: the error, its JSON, the JSON log.
for url in "postgresql://app:pa/ss$secret@db/app" "postgresql://app:p@ss$secret@db/app" \
  "postgresql://db/app?user=app&password=$secret" "postgres://app:$secret?x@db:5432/app?sslmode=require"; do
  # No such server (db does not resolve): unavailable (69), or a URL libpq cannot read (a
  # password with an unescaped '/' reads as a port): 64. Masked either way, whatever libpq
  # quotes back of it.
  "$HK" --db "$url" --json run --task stats >out 2>err
  rc=$?
  check "'$url': not usable: 64 or 69 (was $rc)" test "$rc" -eq 64 -o "$rc" -eq 69
  check "'$url': the error masks it" grep -qF -- "****" err
  check "'$url': masked in the error and its JSON" [ "$(cat out err | grep -c -- "$secret")" -eq 0 ]
  "$HK" --db "$url" --log-format json run --task stats >out 2>err
  check "'$url': masked in the JSON log" [ "$(cat out err | grep -c -- "$secret")" -eq 0 ]
  expect 0 "" "$HK" --db "$url" config show
  check "'$url': config show masks it" [ "$(cat out err | grep -c -- "$secret")" -eq 0 ]
  expect 0 "" "$HK" --db "$url" scheduler-info --format crontab --count 1 2>/dev/null
  check "'$url': the export masks it" [ "$(cat out err | grep -c -- "$secret")" -eq 0 ]
done
finish
