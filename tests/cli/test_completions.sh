#!/usr/bin/env bash
# Shell completions: bash driven through its completion function; zsh and fish loaded (and
# fish asked for candidates) where installed. Every long option a command's --help lists
# must be offered for that command.
SRC=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/lib.sh"

# shellcheck source=/dev/null
. "$SRC/completions/housekeep.bash"
check "bash: 'complete -p housekeep' names the function" sh -c "complete -p housekeep 2>/dev/null | grep -q _housekeep || bash -c '. $SRC/completions/housekeep.bash; complete -p housekeep' | grep -q _housekeep"

# comp WORD...: the candidates bash offers for the last word.
comp() {
  COMP_WORDS=("$HK" "$@")
  COMP_CWORD=$#
  COMPREPLY=()
  _housekeep
  printf '%s\n' "${COMPREPLY[@]}"
}

# offers DESCRIPTION CANDIDATE WORD...
offers() {
  local what=$1 want=$2
  shift 2
  # Captured first: with pipefail, `comp | grep -q` fails whenever grep quits before comp
  # has written everything (SIGPIPE).
  local offered
  offered=$(comp "$@")
  if grep -qxF -- "$want" <<<"$offered"; then ok; else fail "bash: $what: '$want' not offered for '$*': $(tr '\n' ' ' <<<"$offered")"; fi
}

for command in run scheduler-info daemon history restore cron demo config; do
  offers "subcommands" "$command" ""
done
offers "task names" conversations run --task c
offers "task names" all run -t ""
offers "formats" crontab scheduler-info --format ""
offers "formats" systemd scheduler-info -f s
offers "cron actions" explain cron ""
offers "config actions" show config ""
offers "log formats" json --log-format ""

# long_options ARGS...: the long options that the help of `housekeep ARGS --help` lists.
long_options() {
  "$HK" "$@" --help | grep -E '^ +-' | sed -E 's/^ +(-[a-z],)?(--[a-z][a-z-]*).*/\2/' | grep -E '^--' | sort -u
}

# Every long option of --help, per command (and the global ones everywhere).
for command in run scheduler-info daemon history restore demo; do
  for option in $(long_options "$command"); do
    offers "$command --help lists it" "$option" "$command" --
  done
done
for option in $(long_options); do
  offers "global --help lists it" "$option" --
done

# Job names come from the configuration the line names.
cat >jobs.toml <<'TOML'
[jobs.nightly_purge]
task = "all"
schedule = "0 2 * * *"

[jobs.hourly_stats]
task = "stats"
schedule = "@hourly"
TOML
offers "job names from --config" nightly_purge -c jobs.toml run --job ""
cat >>jobs.toml <<'TOML'

[tasks.old_sessions]
kind = "expired"
table = "sessions"
TOML
offers "configured task names from --config" old_sessions -c jobs.toml run --task o
offers "job names from --config" hourly_stats --config jobs.toml history --job h
offered=$(comp run --job "")
if grep -q nightly_purge <<<"$offered"; then fail "bash: jobs of another configuration offered"; else ok; fi

if command -v zsh >/dev/null; then
  check "zsh: _housekeep parses" zsh -n "$SRC/completions/_housekeep"
  check "zsh: _housekeep loads through compinit" zsh -f -c "fpath=($SRC/completions \$fpath); autoload -Uz compinit; compinit -u -d $WORK/zcompdump; autoload -Uz _housekeep; (( \${+functions[_housekeep]} )) || exit 1; [[ \${_comps[housekeep]} == _housekeep ]]"
else
  echo "note: zsh not installed; its completion was not loaded"
fi

if command -v fish >/dev/null; then
  fishcomp() { fish --no-config -c "source $SRC/completions/housekeep.fish; complete -C'$1'" 2>&1; }
  check "fish: loads without error" fish --no-config -c "source $SRC/completions/housekeep.fish"
  check "fish: subcommands" sh -c "$(declare -f fishcomp); SRC=$SRC; fishcomp 'housekeep sched' | grep -q '^scheduler-info'"
  check "fish: run options" sh -c "$(declare -f fishcomp); SRC=$SRC; fishcomp 'housekeep run --bat' | grep -q '^--batch-time'"
  check "fish: formats" sh -c "$(declare -f fishcomp); SRC=$SRC; fishcomp 'housekeep scheduler-info --format ' | grep -q '^crontab'"
  check "fish: job names" sh -c "$(declare -f fishcomp); SRC=$SRC; cd $WORK && PATH=$(dirname "$HK"):\$PATH fishcomp 'housekeep -c jobs.toml run --job ' | grep -q '^nightly_purge'"
else
  echo "note: fish not installed; its completion was not loaded"
fi

finish
