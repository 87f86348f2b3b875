#!/usr/bin/env bash
# --help reads well and succeeds for every subcommand; --version prints the version.
. "$(dirname "$0")/lib.sh"

expect 0 "" "$HK" --help
cp out top.txt
for command in run scheduler-info status daemon history cron demo config; do
  check "help lists $command" grep -qE "^  $command " top.txt
  expect 0 "" "$HK" "$command" --help
  check "$command --help has a usage line" grep -q "Usage: .*$command" out
done
expect 0 "" "$HK" run --help
for option in --task --job --dry-run --older-than --batch-size --sleep --timeout --wait; do
  check "run --help documents $option" grep -q -- "$option" out
done
check "run --help names the tasks" grep -q "conversations, messages, users, stats, a configured one, or all" out
check "run --help names the kinds" grep -q "kinds aged, orphans, inactive, stats, expired, exec, files, backup, vacuum" out
expect 0 "" "$HK" --version
check "--version" grep -qE "^housekeep [0-9]+\.[0-9]+\.[0-9]+$" out
expect 0 "" "$HK" config check
check "config check with built-in defaults" grep -q "configuration ok: built-in defaults" out
finish
