# Helpers for the command-line tests. Usage: . lib.sh /path/to/housekeep
set -uo pipefail
HK=${1:?usage: test_X.sh /path/to/housekeep}
WORK=$(mktemp -d /tmp/housekeep-cli-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
export HOUSEKEEP_CONFIG="" HOUSEKEEP_DATABASE_URL="" DATABASE_URL="" JOURNAL_STREAM=""
unset HOUSEKEEP_CONFIG HOUSEKEEP_DATABASE_URL DATABASE_URL JOURNAL_STREAM
checks=0
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

ok() {
  checks=$((checks + 1))
}

# check DESCRIPTION COMMAND...: the command must succeed.
check() {
  local what=$1
  shift
  if "$@" >/dev/null; then ok; else fail "$what"; fi
}

# expect CODE FRAGMENT COMMAND...: runs the command, which must exit CODE with FRAGMENT on
# stderr; a failure must say so in exactly one "housekeep: error:" line (a "hint:" line and
# notices may accompany it). Leaves stdout in $WORK/out and stderr in $WORK/err.
expect() {
  local code=$1 fragment=$2
  shift 2
  "$@" >"$WORK/out" 2>"$WORK/err"
  local rc=$?
  checks=$((checks + 1))
  if [ "$rc" -ne "$code" ]; then
    fail "'$*': exit $rc, expected $code; stderr: $(cat "$WORK/err")"
    return
  fi
  if [ -n "$fragment" ] && ! grep -qF -- "$fragment" "$WORK/err"; then
    fail "'$*': stderr lacks '$fragment': $(cat "$WORK/err")"
    return
  fi
  if [ "$code" -ne 0 ]; then
    local errors
    errors=$(grep -c '^housekeep: error: ' "$WORK/err")
    if [ "$errors" -ne 1 ]; then
      fail "'$*': expected one error line (and a hint), got: $(cat "$WORK/err")"
      return
    fi
    if grep -qiE 'exception|what\(\)|terminate' "$WORK/err"; then
      fail "'$*': raw exception text on stderr: $(cat "$WORK/err")"
    fi
  fi
}

# q DB SQL: one value from an independent sqlite3 query.
q() {
  sqlite3 -batch -noheader "$1" "$2"
}

# digest FILE: the file's bytes.
digest() {
  sha256sum "$1" | cut -d' ' -f1
}

# data_digest DB: the application's rows (housekeep's own tables left out, since a failed
# run is recorded in housekeep_runs on purpose).
data_digest() {
  local table dump=""
  for table in $(sqlite3 "$1" "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'housekeep_%' ORDER BY name"); do
    dump+=$(sqlite3 "$1" "SELECT * FROM \"$table\" ORDER BY rowid")
  done
  printf '%s' "$dump" | sha256sum | cut -d' ' -f1
}

finish() {
  echo "$checks checks, $failures failures"
  [ "$failures" -eq 0 ]
  exit $?
}
