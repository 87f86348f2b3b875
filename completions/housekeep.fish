# fish completion for housekeep(1).

function __housekeep_jobs
    set -l args
    set -l words (commandline -opc)
    for i in (seq 2 (count $words))
        switch $words[$i]
            case -c --config -d --db
                set -a args $words[$i] $words[(math $i + 1)]
        end
    end
    $words[1] $args config show 2>/dev/null | string replace -rf '^\[jobs\.(.*)\]$' '$1'
end

set -l commands run scheduler-info status daemon history restore cron demo config
set -l tasks conversations messages users stats all

complete -c housekeep -f
complete -c housekeep -s c -l config -r -F -d 'Configuration file'
complete -c housekeep -s d -l db -r -F -d 'Database URL or file'
complete -c housekeep -l json -d 'Print results as one JSON document'
complete -c housekeep -l log-format -x -a 'text json' -d 'Log line format'
complete -c housekeep -s q -l quiet -d 'Print nothing but errors'
complete -c housekeep -s v -l verbose -d 'Log each step'
complete -c housekeep -l version -d 'Print the version'
complete -c housekeep -s h -l help -d 'Print help'

complete -c housekeep -n "not __fish_seen_subcommand_from $commands" -a run -d 'Run tasks once, now'
complete -c housekeep -n "not __fish_seen_subcommand_from $commands" -a scheduler-info -d 'List or export the configured jobs'
complete -c housekeep -n "not __fish_seen_subcommand_from $commands" -a status -d 'Show what runs now, the daemons and the jobs'
complete -c housekeep -n "not __fish_seen_subcommand_from $commands" -a daemon -d 'Run the jobs on their schedules'
complete -c housekeep -n "not __fish_seen_subcommand_from $commands" -a history -d 'Show recorded runs'
complete -c housekeep -n "not __fish_seen_subcommand_from $commands" -a restore -d 'Put archived rows back'
complete -c housekeep -n "not __fish_seen_subcommand_from $commands" -a cron -d 'Check a cron expression'
complete -c housekeep -n "not __fish_seen_subcommand_from $commands" -a demo -d 'Create a sample database'
complete -c housekeep -n "not __fish_seen_subcommand_from $commands" -a config -d 'Check or show the configuration'

complete -c housekeep -n '__fish_seen_subcommand_from run' -s t -l task -x -a "$tasks" -d 'Task to run'
complete -c housekeep -n '__fish_seen_subcommand_from run history' -l job -x -a '(__housekeep_jobs)' -d 'Configured job'
complete -c housekeep -n '__fish_seen_subcommand_from run restore' -s n -l dry-run -d 'Change nothing'
complete -c housekeep -n '__fish_seen_subcommand_from run' -l older-than -x -d 'Override the retention'
complete -c housekeep -n '__fish_seen_subcommand_from run' -l batch-size -x -d 'Most rows of the walked table per write transaction'
complete -c housekeep -n '__fish_seen_subcommand_from run' -l batch-time -x -d 'Target write transaction time'
complete -c housekeep -n '__fish_seen_subcommand_from run' -l sleep -x -d 'Pause between batches'
complete -c housekeep -n '__fish_seen_subcommand_from run' -l wait -d 'Wait for the purge lock'
complete -c housekeep -n '__fish_seen_subcommand_from run' -l timeout -x -d 'Stop after this long'
complete -c housekeep -n '__fish_seen_subcommand_from run' -l max-delete -x -d 'Refuse above this many rows'
complete -c housekeep -n '__fish_seen_subcommand_from run' -l archive -x -a '(__fish_complete_directories)' -d 'Archive deleted rows here'
complete -c housekeep -n '__fish_seen_subcommand_from run' -l allow-empty -d 'Allow emptying a table'
complete -c housekeep -n '__fish_seen_subcommand_from run' -l force -d 'With --job, run a disabled job'
complete -c housekeep -n '__fish_seen_subcommand_from scheduler-info' -s f -l format -x -a 'table json crontab systemd' -d 'Output format'
complete -c housekeep -n '__fish_seen_subcommand_from scheduler-info status cron' -s n -l count -x -d 'How many'
complete -c housekeep -n '__fish_seen_subcommand_from scheduler-info status' -l check -d 'Health check'
complete -c housekeep -n '__fish_seen_subcommand_from daemon' -l once -d 'Run what is due, then exit'
complete -c housekeep -n '__fish_seen_subcommand_from daemon' -l listen -x -d 'Serve the status API on HOST:PORT'
complete -c housekeep -n '__fish_seen_subcommand_from run daemon' -l metrics-file -r -F -d 'Write Prometheus metrics here'
complete -c housekeep -n '__fish_seen_subcommand_from run daemon' -l statsd -x -d 'Send statsd packets to HOST:PORT'
complete -c housekeep -n '__fish_seen_subcommand_from history' -s n -l limit -x -d 'How many runs'
complete -c housekeep -n '__fish_seen_subcommand_from history' -s t -l task -x -a 'conversations messages users stats' -d 'Only this task'
complete -c housekeep -n '__fish_seen_subcommand_from restore' -F -d 'Archive file'
complete -c housekeep -n '__fish_seen_subcommand_from demo' -l rows -x -d 'Messages to create'
complete -c housekeep -n '__fish_seen_subcommand_from demo' -l force -d 'Replace the file'
complete -c housekeep -n '__fish_seen_subcommand_from demo' -l layout -x -a 'time shuffled interleaved' -d 'How ids and times relate'
complete -c housekeep -n '__fish_seen_subcommand_from cron; and not __fish_seen_subcommand_from next explain' -a 'next explain'
complete -c housekeep -n '__fish_seen_subcommand_from cron' -l tz -x -d 'Time zone'
complete -c housekeep -n '__fish_seen_subcommand_from cron' -l from -x -d 'Start time'
complete -c housekeep -n '__fish_seen_subcommand_from config; and not __fish_seen_subcommand_from check show' -a 'check show'
