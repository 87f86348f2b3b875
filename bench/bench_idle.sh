#!/usr/bin/env bash
# Idle cost of the daemon: with its only job an hour away, how much CPU it uses and how
# often it wakes during one observation window (default 60 s).
#
#   bench/bench_idle.sh build/release/commands/housekeep [SECONDS]
set -euo pipefail
HK=$(realpath "${1:?usage: bench_idle.sh /path/to/housekeep [SECONDS]}")
SECONDS_TO_WATCH=${2:-60}
WORK=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; rm -rf "$WORK"' EXIT
cd "$WORK"
"$HK" --db app.db demo --rows 100 -q
# A daily job at a minute that is at least an hour away.
minute=$(date -u -d '+90 minutes' +%M)
hour=$(date -u -d '+90 minutes' +%H)
printf '[jobs.nightly]\ntask = "stats"\nschedule = "%d %d * * *"\n' "$((10#$minute))" "$((10#$hour))" >hk.toml
"$HK" --config hk.toml --db app.db daemon 2>daemon.log &
pid=$!
sleep 2 # let it start and settle

sample() {
  local stat switches
  stat=$(cut -d' ' -f14,15 "/proc/$pid/stat")
  switches=$(awk '/^(voluntary|nonvoluntary)_ctxt_switches/ { n += $2 } END { print n }' "/proc/$pid/status")
  echo "$stat $switches"
}
read -r u0 s0 c0 < <(sample)
sleep "$SECONDS_TO_WATCH"
read -r u1 s1 c1 < <(sample)
rss=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
ticks=$(getconf CLK_TCK)
echo "observed ${SECONDS_TO_WATCH}s with the next job at ${hour}:${minute} UTC"
echo "cpu: $(( (u1 - u0) + (s1 - s0) )) ticks of 1/${ticks}s (user $((u1 - u0)), system $((s1 - s0)))"
echo "context switches (wake-ups): $((c1 - c0))"
echo "peak RSS: ${rss} kB"
