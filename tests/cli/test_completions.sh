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

for command in run scheduler-info status daemon history restore cron demo config; do
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
  # A real interactive zsh on a pseudo-terminal: type the line, press TAB, read back what the
  # line became.
  cat >zdrive.zsh <<'ZSH'
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1='%% '; fpath=($SRC/completions \$fpath); autoload -Uz compinit; compinit -u -d $WORK/zcd; PATH=$BIN:\$PATH; cd $WORK"
zpty -w -n z "$LINE"$'\t'
local all= chunk
for i in {1..30}; do
  sleep 0.2
  while zpty -r -t z chunk; do all+=$chunk; done
  [[ $all == *"$WANT"* ]] && break
done
print -r -- "$all"
zpty -d z
ZSH
  # zcomp LINE WANT: the completed line holds WANT.
  zcomp() {
    SRC=$SRC WORK=$WORK BIN=$(dirname "$HK") LINE=$1 WANT=$2 zsh -f zdrive.zsh 2>/dev/null | tail -1 | grep -qF -- "$2"
  }
  check "zsh: --job from the configuration" zcomp 'housekeep -c jobs.toml run --job nightly_p' 'run --job nightly_purge'
  check "zsh: history --job too" zcomp 'housekeep --config jobs.toml history --job hourly' 'history --job hourly_stats'
  check "zsh: --task with the configuration's own tasks" zcomp 'housekeep -c jobs.toml run --task old_' 'run --task old_sessions'
  check "zsh: --task built in" zcomp 'housekeep run --task conv' 'run --task conversations'
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

# The built-in task names the completions offer are the binary's own (its default
# configuration's tasks), so a renamed or added built-in cannot leave them behind.
builtins=$("$HK" config show | sed -n 's/^\[tasks\.\(.*\)\]$/\1/p' | tr '\n' ' ')
check "the binary has built-in tasks" test -n "$builtins"
check "bash: built-in tasks are the binary's" grep -qF -- "local tasks=\"${builtins}all\"" "$SRC/completions/housekeep.bash"
check "bash: history's built-in tasks are the binary's" grep -qF -- "tasks=\"${builtins% }\"" "$SRC/completions/housekeep.bash"
check "bash: configured tasks leave out the built-in ones" grep -qF -- "grep -vx '$(sed 's/ $//; s/ /\\|/g' <<<"$builtins")'" "$SRC/completions/housekeep.bash"
check "zsh: built-in tasks are the binary's" grep -qF -- "tasks=(${builtins% }" "$SRC/completions/_housekeep"
check "fish: built-in tasks are the binary's" grep -qF -- "set -l tasks ${builtins}all" "$SRC/completions/housekeep.fish"
check "fish: history's built-in tasks are the binary's" grep -qF -- "-a '${builtins% }'" "$SRC/completions/housekeep.fish"

finish
