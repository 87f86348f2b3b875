# bash completion for housekeep(1): subcommands, options, task names, --format values,
# and job names read from the configuration in effect (--config/--db on the line count).

# `housekeep config show` for the configuration the line being completed names
# (its --config and --db count).
_housekeep_config_show()
{
  local i args=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      -c | --config | -d | --db) args+=("${COMP_WORDS[i]}" "${COMP_WORDS[i + 1]}") ;;
    esac
  done
  "${COMP_WORDS[0]}" "${args[@]}" config show 2>/dev/null
}

_housekeep_jobs()
{
  _housekeep_config_show | sed -n 's/^\[jobs\.\(.*\)\]$/\1/p'
}

# Tasks defined in that configuration, besides the built-in ones.
_housekeep_configured_tasks()
{
  _housekeep_config_show | sed -n 's/^\[tasks\.\(.*\)\]$/\1/p' | grep -vx 'conversations\|messages\|users\|stats'
}

_housekeep()
{
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
  local commands="run scheduler-info status daemon history restore cron demo config"
  local globals="--config --db --json --log-format --quiet --verbose --version --help"
  local tasks="conversations messages users stats all"
  local cmd="" sub="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      -c | --config | -d | --db | --log-format | -t | --task | --job | -f | --format | --tz | \
        --from | --older-than | --batch-size | --batch-time | --sleep | --timeout | \
        --max-delete | --archive | --rows | --layout | --count | --limit | --metrics-file | --statsd | --listen)
        ((i++)) ;;
      -n) [[ $cmd == @(scheduler-info|status|history|cron) ]] && ((i++)) ;;
      -*) ;;
      *) if [[ -z $cmd ]]; then cmd=${COMP_WORDS[i]}; elif [[ -z $sub ]]; then sub=${COMP_WORDS[i]}; fi ;;
    esac
  done

  COMPREPLY=()
  case $prev in
    -c | --config) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    -d | --db) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --log-format) COMPREPLY=($(compgen -W "text json" -- "$cur")); return ;;
    --layout) COMPREPLY=($(compgen -W "time shuffled interleaved" -- "$cur")); return ;;
    -t | --task)
      [[ $cmd == history ]] && tasks="conversations messages users stats"
      COMPREPLY=($(compgen -W "$tasks $(_housekeep_configured_tasks)" -- "$cur")); return ;;
    --job) COMPREPLY=($(compgen -W "$(_housekeep_jobs)" -- "$cur")); return ;;
    -f | --format) COMPREPLY=($(compgen -W "table json crontab systemd" -- "$cur")); return ;;
    --archive) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --metrics-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --statsd | --listen) return ;;
    --tz)
      COMPREPLY=($(compgen -W "UTC local $(cd /usr/share/zoneinfo 2>/dev/null && find -L . -type f -name '[A-Z]*' 2>/dev/null | sed 's|^\./||' | grep -v '^posix\|^right')" -- "$cur"))
      return ;;
    --from | --older-than | --batch-size | --batch-time | --sleep | --timeout | --max-delete | \
      --rows | --count | --limit)
      return ;;
    -n) [[ $cmd == @(scheduler-info|status|history|cron) ]] && return ;;
  esac

  local opts=""
  case $cmd in
    "") COMPREPLY=($(compgen -W "$commands $globals" -- "$cur")); return ;;
    run) opts="--task --job --dry-run --older-than --batch-size --batch-time --sleep --wait --timeout --max-delete --archive --allow-empty --force --metrics-file --statsd --help" ;;
    scheduler-info) opts="--format --count --check --help" ;;
    status) opts="--count --check --help" ;;
    daemon) opts="--once --metrics-file --statsd --listen --help" ;;
    history) opts="--limit --task --job --help" ;;
    restore)
      if [[ $cur != -* ]]; then
        COMPREPLY=($(compgen -f -X '!*.jsonl' -- "$cur") $(compgen -d -- "$cur"))
        return
      fi
      opts="--dry-run --help" ;;
    demo) opts="--rows --force --layout --help" ;;
    cron)
      if [[ -z $sub ]]; then COMPREPLY=($(compgen -W "next explain --help" -- "$cur")); return; fi
      opts="--tz --from --count --help"
      [[ $sub == explain ]] && opts="--tz --from --help" ;;
    config)
      if [[ -z $sub ]]; then COMPREPLY=($(compgen -W "check show --help" -- "$cur")); return; fi
      opts="--help" ;;
    *) return ;;
  esac
  COMPREPLY=($(compgen -W "$opts $globals" -- "$cur"))
}

complete -F _housekeep housekeep
