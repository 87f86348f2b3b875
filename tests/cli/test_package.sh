#!/usr/bin/env bash
# Installation: `cmake --install` lays out the expected tree; `cpack -G DEB` builds a
# package whose dependencies come from the binary's libraries, listing the binary (stripped),
# gzipped man pages, completions and units, that lintian passes without errors; as root, the
# package installs (creating the housekeep system user its units run as), runs, and removes
# cleanly.
# The packaged examples agree with what scheduler-info exports for the built-in jobs.
SRC=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/lib.sh"
BUILD=$(cd "$(dirname "$HK")/.." && pwd)

expected=(
  bin/housekeep
  share/man/man1/housekeep.1.gz
  share/man/man5/housekeep.toml.5.gz
  share/bash-completion/completions/housekeep
  share/zsh/vendor-completions/_housekeep
  share/fish/vendor_completions.d/housekeep.fish
  lib/systemd/system/housekeep.service
  lib/systemd/system/housekeep-run@.service
  lib/systemd/system/housekeep-run@.timer
  share/doc/housekeep/README.md
  share/doc/housekeep/copyright
  share/doc/housekeep/changelog.gz
  share/doc/housekeep/examples/housekeep
  share/doc/housekeep/examples/cronjob.yaml
  share/doc/housekeep/examples/deployment.yaml
)
expect 0 "" cmake --install "$BUILD" --prefix "$WORK/root"
for path in "${expected[@]}"; do
  check "cmake --install: $path" [ -f "$WORK/root/$path" ]
done
check "cmake --install: the installed binary runs" "$WORK/root/bin/housekeep" --version

expect 0 "" cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$WORK/deb"
deb=$(ls "$WORK"/deb/housekeep_*.deb 2>/dev/null | head -1)
check "cpack built a .deb" [ -n "$deb" ]
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./||' >contents.txt
for path in "${expected[@]}"; do
  check "dpkg -c lists usr/$path" grep -qxF "usr/$path" contents.txt
done
check "the man pages are gzip files" sh -c "gzip -t '$WORK/root/share/man/man1/housekeep.1.gz' '$WORK/root/share/man/man5/housekeep.toml.5.gz'"
check "the changelog's version is the binary's" [ "$(gzip -dc "$WORK/root/share/doc/housekeep/changelog.gz" | sed -n '1s/^housekeep (\(.*\)).*/\1/p')" = "$("$HK" --version | awk '{print $2}')" ]
dpkg-deb -x "$deb" unpacked
check "the packaged binary is stripped" sh -c "file unpacked/usr/bin/housekeep | grep -q ', stripped'"
check "the description has no ';' line (a CMake list)" sh -c "! dpkg-deb -f '$deb' Description | grep -q '^ ;'"
check "postinst creates the system user" sh -c "dpkg-deb -e '$deb' control && grep -q 'adduser --system --group' control/postinst"
if command -v lintian >/dev/null; then
  lintian --tag-display-limit 0 "$deb" >lintian.txt 2>&1
  check "lintian: no errors: $(grep '^E:' lintian.txt | tr '\n' ' ')" sh -c "! grep -q '^E:' lintian.txt"
  check "lintian: no warnings: $(grep '^W:' lintian.txt | tr '\n' ' ')" sh -c "! grep -q '^W:' lintian.txt"
else
  echo "note: lintian not installed; the package was not checked"
fi
depends=$(dpkg-deb -f "$deb" Depends)
for library in libsqlite3 libfmt libsystemd libtomlplusplus; do
  check "Depends names $library (from shlibdeps): $depends" grep -q "$library" <<<"$depends"
done

if [ "$(id -u)" -eq 0 ] && ! dpkg -s housekeep >/dev/null 2>&1; then
  had_user=$(getent passwd housekeep >/dev/null && echo yes || echo no)
  expect 0 "" dpkg -i "$deb"
  check "the installed package runs from /usr/bin" /usr/bin/housekeep --version
  check "the housekeep system user exists" sh -c "getent passwd housekeep | awk -F: '\$3 < 1000 {found=1} END {exit !found}'"
  check "man finds the installed page" sh -c "MANPAGER=cat man -w housekeep | grep -q /usr/share/man/man1/housekeep.1"
  expect 0 "" dpkg -r housekeep
  check "dpkg -r removed the binary" [ ! -e /usr/bin/housekeep ]
  if [ "$had_user" = no ]; then
    deluser --system --quiet housekeep >/dev/null 2>&1 || userdel housekeep 2>/dev/null
  fi
else
  echo "note: not root (or housekeep already installed): dpkg -i not tried"
fi

# The packaged examples and scheduler-info's exports describe the same jobs.
"$HK" --config /dev/null scheduler-info --format crontab >exported.cron 2>/dev/null ||
  "$HK" scheduler-info --format crontab >exported.cron
grep -E '^[0-9*@]' exported.cron | sed -E 's|^(([^ ]+ ){5}).* run --job ([^ ]+) --quiet$|\1run --job \3 --quiet|' >exported.lines
grep -E '^[0-9*@]' "$SRC/packaging/crontab/housekeep" |
  sed -E 's|^(([^ ]+ ){5})[^ ]+ .* run --job ([^ ]+) --quiet$|\1run --job \3 --quiet|' >packaged.lines
check "packaging/crontab/housekeep has the exported schedules and jobs" diff exported.lines packaged.lines
"$HK" scheduler-info --format systemd >exported.units
template=$(grep '^ExecStart=' "$SRC/packaging/systemd/housekeep-run@.service" | sed 's/.* run --job %i$/run --job JOB/')
for job in $(sed -n 's/^# housekeep-\(.*\)\.service$/\1/p' exported.units); do
  exec_line=$(grep -m1 "^ExecStart=.* run --job $job$" exported.units | sed "s/.* run --job $job$/run --job JOB/")
  check "housekeep-run@.service runs what the export runs for $job" [ "$exec_line" = "$template" ]
done
for key in Persistent AccuracySec; do
  check "timer template and export agree on $key" [ \
    "$(grep -m1 "^$key=" exported.units)" = "$(grep -m1 "^$key=" "$SRC/packaging/systemd/housekeep-run@.timer")" ]
done
check "the template timer's default is the daily job's calendar" [ \
  "$(grep -m1 '^OnCalendar=' exported.units)" = "$(grep -m1 '^OnCalendar=' "$SRC/packaging/systemd/housekeep-run@.timer")" ]
check "the Deployment runs two replicas of the daemon with the status API" sh -c "grep -q '^  replicas: 2' '$SRC/packaging/kubernetes/deployment.yaml' && grep -q '\"daemon\", \"--listen\"' '$SRC/packaging/kubernetes/deployment.yaml'"
check "the CronJob forbids overlapping runs" grep -q 'concurrencyPolicy: Forbid' "$SRC/packaging/kubernetes/cronjob.yaml"
check "the CronJob runs the daily job on its schedule" grep -qF "schedule: \"$(awk '/run --job daily_housekeeping/ {print $1" "$2" "$3" "$4" "$5; exit}' exported.cron)\"" "$SRC/packaging/kubernetes/cronjob.yaml"
if command -v systemd-analyze >/dev/null; then
  cp "$SRC/packaging/systemd/housekeep-run@.service" "$SRC/packaging/systemd/housekeep-run@.timer" .
  sed -i "s|/usr/bin/housekeep|$HK|" housekeep-run@.service
  cp housekeep-run@.service housekeep-run@nightly.service
  cp housekeep-run@.timer housekeep-run@nightly.timer
  check "systemd-analyze verify accepts the template pair" sh -c "systemd-analyze verify ./housekeep-run@nightly.service ./housekeep-run@nightly.timer 2>&1 | grep -v 'Documentation=' | grep -qi 'error\|invalid' && exit 1 || exit 0"
fi

finish
