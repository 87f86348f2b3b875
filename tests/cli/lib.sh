# Helpers for the command-line tests. Usage: . lib.sh /path/to/housekeep
set -uo pipefail
HK=${1:?usage: test_X.sh /path/to/housekeep}
STARTED_IN=$PWD # the build directory's tests/ under ctest: where artefacts stay
WORK=$(mktemp -d /tmp/housekeep-cli-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
export HOUSEKEEP_CONFIG="" HOUSEKEEP_DATABASE_URL="" DATABASE_URL="" JOURNAL_STREAM=""
unset HOUSEKEEP_CONFIG HOUSEKEEP_DATABASE_URL DATABASE_URL JOURNAL_STREAM
checks=0
failures=0

# The engine under test: sqlite (database files in $WORK) or postgresql (databases on the test
# server scripts/test starts, dropped at exit). CTest runs the portable tests once per engine
# (HOUSEKEEP_TEST_ENGINE); without a server, the PostgreSQL run is skipped (77).
ENGINE=${HOUSEKEEP_TEST_ENGINE:-sqlite}
PG_PREFIX=hk_cli_$$_
pg_admin() {
  PGOPTIONS="-c client_min_messages=warning" psql -qAtX -v ON_ERROR_STOP=1 \
    "host=$HOUSEKEEP_TEST_PG_HOST port=$HOUSEKEEP_TEST_PG_PORT user=postgres dbname=postgres" -c "$1"
}
drop_databases() {
  local d
  for d in $(pg_admin "SELECT datname FROM pg_database WHERE datname LIKE '${PG_PREFIX}%'"); do
    pg_admin "DROP DATABASE $d WITH (FORCE)" >/dev/null 2>&1
  done
}
case $ENGINE in
sqlite) ;;
postgresql)
  if [ -z "${HOUSEKEEP_TEST_PG_HOST:-}" ]; then
    echo "skipped: no PostgreSQL test server (HOUSEKEEP_TEST_PG_HOST)"
    exit 77
  fi
  trap 'drop_databases; rm -rf "$WORK"' EXIT
  ;;
*)
  echo "unknown HOUSEKEEP_TEST_ENGINE '$ENGINE'" >&2
  exit 2
  ;;
esac
# skip WHY: skips the test (77), except under CI, where the scripts install everything a
# test needs, so that a missing piece fails instead of passing unseen.
skip() {
  if [ "${CI:-}" = true ]; then
    echo "FAIL: $1 (CI installs it: scripts/lib/common.sh)"
    exit 1
  fi
  echo "skipped: $1"
  exit 77
}
# need_python MODULE...: skips the test unless Debian's python3 imports every module.
PYTHON=/usr/bin/python3
need_python() {
  local module
  for module in "$@"; do
    "$PYTHON" -c "import $module" 2>/dev/null || skip "python3-$module is not installed"
  done
}

# The demo's layout for the tests that run on each (HOUSEKEEP_TEST_LAYOUT: time, shuffled or
# interleaved; see demo --layout).
LAYOUT=${HOUSEKEEP_TEST_LAYOUT:-time}
pg_url() { echo "postgresql://postgres@/${PG_PREFIX}$1?host=$HOUSEKEEP_TEST_PG_HOST&port=$HOUSEKEEP_TEST_PG_PORT"; }

# db NAME: the --db argument of a new, empty database called NAME.
db() {
  if [ "$ENGINE" = sqlite ]; then
    echo "$1.db"
  else
    pg_admin "CREATE DATABASE ${PG_PREFIX}$1" >/dev/null && pg_url "$1"
  fi
}

# copy_db DB NAME: the --db argument of a copy of DB called NAME.
copy_db() {
  if [ "$ENGINE" = sqlite ]; then
    cp "$1" "$2.db" && echo "$2.db"
  else
    pg_admin "CREATE DATABASE ${PG_PREFIX}$2 TEMPLATE ${PG_PREFIX}$(db_name "$1")" >/dev/null && pg_url "$2"
  fi
}
db_name() {
  local name=${1#postgresql://postgres@/}
  name=${name%%\?*}
  echo "${name#"$PG_PREFIX"}"
}

# SQL that differs between the engines. ts 'YYYY-MM-DD HH:MM:SS': that UTC time as a literal
# comparable with the demo's time columns; days_before STAMP N: N days before it;
# json_int COLUMN KEY: an integer of a JSON object held as text.
ts() {
  if [ "$ENGINE" = sqlite ]; then echo "'$1'"; else echo "timestamptz '$1+00'"; fi
}
days_before() {
  ts "$(date -u -d "$1 UTC - $2 days" '+%Y-%m-%d %H:%M:%S')"
}
json_int() {
  if [ "$ENGINE" = sqlite ]; then echo "json_extract($1, '\$.$2')"; else echo "($1::json ->> '$2')::bigint"; fi
}

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

# q DB SQL: values from an independent query (sqlite3, or psql for a postgresql:// URL).
q() {
  case $1 in
  postgresql://*) PGOPTIONS="-c client_min_messages=warning" psql -qAtX -v ON_ERROR_STOP=1 "$1" -c "$2" ;;
  *) sqlite3 -batch -noheader -cmd ".timeout 5000" "$1" "$2" ;;
  esac
}

# digest DB: a SQLite file's bytes; on PostgreSQL, every row of every table (housekeep's own
# included: a dry run writes nothing, not even history; an empty table counts as none, as
# taking the purge lock creates housekeep_locks).
digest() {
  case $1 in
  postgresql://*) pg_digest "$1" "" ;;
  *) sha256sum "$1" | cut -d' ' -f1 ;;
  esac
}
pg_digest() {
  local table dump=""
  for table in $(q "$1" "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' $2 ORDER BY 1"); do
    dump+=$(q "$1" "SELECT '$table:' || md5(string_agg(t::text, ',' ORDER BY t::text)) FROM \"$table\" t HAVING count(*) > 0")
  done
  printf '%s' "$dump" | sha256sum | cut -d' ' -f1
}

# data_digest DB: the application's rows (housekeep's own tables left out, since a failed
# run is recorded in housekeep_runs on purpose).
data_digest() {
  case $1 in
  postgresql://*)
    pg_digest "$1" "AND table_name NOT LIKE 'housekeep\\_%'"
    return
    ;;
  esac
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

# wait_for SECONDS COMMAND...: polls until the command succeeds.
wait_for() {
  local limit=$1 i
  shift
  for ((i = 0; i < limit * 10; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}
