#!/usr/bin/env bash
# A database file this user cannot write: stats and dry runs work and change nothing; a
# real purge is refused (77) before anything happens. As root, file modes do not bind, so
# the commands run as 'nobody'.
. "$(dirname "$0")/lib.sh"

"$HK" --db app.db demo --rows 2000 -q
chmod 0444 app.db
chmod 0755 "$WORK"
as_user=()
if [ "$(id -u)" -eq 0 ]; then
  cp "$HK" "$WORK/housekeep" && chmod 0755 "$WORK/housekeep"
  HK=$WORK/housekeep
  as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
  chmod 0555 "$WORK"   # nobody cannot create a lock or journal beside the file either
fi
bytes=$(digest app.db)

expect 0 "not recorded in housekeep_runs" "${as_user[@]}" "$HK" --db app.db --json run --task stats
check "stats json" jq -e '.ok and .tasks[0].stats.total_messages == 2000' out
expect 0 "" "${as_user[@]}" "$HK" --db app.db --json run --task all --dry-run
check "dry run json" jq -e '.ok and .dry_run and .tasks[0].deleted.conversations > 0' out
expect 77 "is read-only; a real run needs write access" "${as_user[@]}" "$HK" --db app.db run --task all
expect 77 "is read-only" "${as_user[@]}" "$HK" --db app.db run --task conversations --wait=1s
expect 0 "" "${as_user[@]}" "$HK" --db app.db history
check "file unchanged" [ "$(digest app.db)" = "$bytes" ]

# The same through the URL, whatever the user: ?mode=ro never writes.
chmod 0755 "$WORK"
chmod 0644 app.db
expect 0 "not recorded" "$HK" --db "sqlite://app.db?mode=ro" run --task stats
expect 77 "is read-only" "$HK" --db "sqlite://app.db?mode=ro" run --task users
check "file unchanged via mode=ro" [ "$(digest app.db)" = "$bytes" ]

# An unreadable database or config file is a permission error (77) for a non-root user.
if [ "$(id -u)" -eq 0 ]; then
  chmod 0000 app.db
  expect 77 "permission denied" "${as_user[@]}" "$HK" --db app.db run --task stats
  printf '[tasks.stats]\nrecent = "1h"\n' > secret.toml
  chmod 0000 secret.toml
  chmod 0644 app.db
  expect 77 "cannot read configuration 'secret.toml': permission denied" "${as_user[@]}" "$HK" --db app.db -c secret.toml run --task stats
fi

# A hot journal (a writer killed mid-transaction) this user cannot roll back: the file
# exists, so it is a permission error naming the journal, not "not found".
if [ "$(id -u)" -eq 0 ]; then
  mkdir hot && "$HK" --db hot/app.db demo --rows 200 -q
  python3 - <<'EOF'
import os, signal, sqlite3
if os.fork() == 0:
    db = sqlite3.connect("hot/app.db", isolation_level=None)
    db.execute("PRAGMA cache_size = 1")  # spill the change into the file before commit
    db.execute("BEGIN IMMEDIATE")
    db.execute("DELETE FROM messages")
    db.execute("UPDATE conversations SET title = title || 'x'")
    os.kill(os.getpid(), signal.SIGKILL)
os.wait()
EOF
  check "a hot journal was left" [ -s hot/app.db-journal ]
  chown 65534:65534 hot hot/app.db
  journal=$(digest hot/app.db-journal)
  expect 77 "the journal 'hot/app.db-journal' cannot be rolled back" "${as_user[@]}" "$HK" --db hot/app.db run --task stats
  expect 77 "cannot be rolled back" "${as_user[@]}" "$HK" --db hot/app.db run --task all --dry-run
  check "hot journal: untouched" [ "$(digest hot/app.db-journal)" = "$journal" ]
  expect 0 "" "$HK" --db hot/app.db run --task stats
  check "its owner rolls it back" [ "$(q hot/app.db "SELECT count(*) FROM messages")" -gt 0 ]
fi
finish
