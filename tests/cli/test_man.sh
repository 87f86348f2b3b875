#!/usr/bin/env bash
# The man pages: groff finds nothing to warn about, every option --help lists is in
# housekeep(1), every subcommand has its place, and every configuration key that
# 'config show' prints is in housekeep.toml(5).
SRC=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/lib.sh"

for page in housekeep.1 housekeep.toml.5; do
  groff -ww -z -t -man "$SRC/man/$page" 2>"$page.warnings"
  check "groff -ww: $page renders without warnings: $(head -3 "$page.warnings")" [ ! -s "$page.warnings" ]
done

# The man source writes each hyphen as \-.
in_page() { grep -qF -- "$(printf '%s' "$2" | sed 's/-/\\-/g')" "$SRC/man/$1"; }

long_options() {
  "$HK" "$@" --help | grep -E '^ +-' | sed -E 's/^ +(-[a-z],)?(--[a-z][a-z-]*).*/\2/' | grep -E '^--' | sort -u
}
for command in "" run scheduler-info status daemon history restore demo "cron next" "cron explain"; do
  # shellcheck disable=SC2086
  for option in $(long_options $command); do
    if in_page housekeep.1 "$option"; then ok; else fail "housekeep.1 lacks $option (housekeep $command --help)"; fi
  done
done
for command in run scheduler-info status daemon history restore "cron next" "cron explain" demo "config check" "config show"; do
  if grep -qE "^\.(B|TP|SH).*$(printf '%s' "$command" | sed 's/-/\\\\-/g')|^\.B $(printf '%s' "$command" | sed 's/-/\\\\-/g')" "$SRC/man/housekeep.1"; then ok; else fail "housekeep.1 has no entry for '$command'"; fi
done
for code in 0 1 3 64 65 66 69 70 73 74 75 77 78; do
  if grep -qE "^$code"$'\t' "$SRC/man/housekeep.1"; then ok; else fail "housekeep.1 lacks exit status $code"; fi
done

"$HK" config show >effective.toml
for key in $(sed -nE 's/^([a-z_]+) = .*/\1/p' effective.toml | sort -u); do
  if grep -qE "^\.BR? $key( |$)" "$SRC/man/housekeep.toml.5"; then ok; else fail "housekeep.toml.5 does not describe '$key'"; fi
done
for section in $(sed -nE 's/^\[([a-z_]+(\.[a-z_]+)?)\]$/\1/p' effective.toml | sed 's/^jobs\..*/jobs.NAME/' | sort -u); do
  if grep -qF ".SH [$section]" "$SRC/man/housekeep.toml.5"; then ok; else fail "housekeep.toml.5 has no section [$section]"; fi
done

finish
