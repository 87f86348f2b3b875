#!/usr/bin/env bash
# The upkeep kinds on a SQLite file: backup (a consistent copy while another process writes,
# verified, private, with retention) and vacuum (space back, sizes reported). PostgreSQL's
# backup (pg_dump) and vacuum are tested in test_postgres.sh.
. "$(dirname "$0")/lib.sh"

"$HK" --db app.db demo --rows 1000 -q
# backup: a consistent copy while another process writes, verified, private; retention
# keeps the newest keep_last and anything younger than keep_days, and ignores foreign files.
"$HK" --db big.db demo --rows 100000 -q
mkdir backups
stamp() { date -u -d "$1" +%Y%m%dT%H%M%SZ; }
for age in '40 days ago' '35 days ago' '29 days ago'; do echo old >"backups/big-$(stamp "$age").db"; done
for foreign in notes.db "big-20200101T000000Z.db.bak" "other-20200101T000000Z.db" "big-2020.db"; do echo keep >"backups/$foreign"; done
cat >backup.toml <<TOML
[tasks.backup]
directory = "$WORK/backups"
keep_days = 30
keep_last = 2
TOML
python3 - big.db <<'PY2' &
import os, sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
while not os.path.exists('writer.stop'):
    con.execute("BEGIN IMMEDIATE")
    for _ in range(2):
        con.execute("INSERT INTO messages (conversation_id, role, content, created_at) VALUES (NULL, 'pair', 'x', datetime('now'))")
    con.execute("COMMIT")
    # Like an application, not back to back: a writer that never lets go starves every
    # reader past its busy timeout (SQLite's readers wait behind a pending commit).
    time.sleep(0.002)
PY2
writer=$!
sleep 0.3
expect 0 "integrity check ok" "$HK" --db big.db -c backup.toml --json run --task backup
touch writer.stop
wait "$writer"
made=$(jq -r '.tasks[0].output' out)
check "backup: named <db>-<UTC time>.db ($made)" grep -qE "/backups/big-[0-9]{8}T[0-9]{6}Z\.db$" <<<"$made"
check "backup: mode 600" [ "$(stat -c %a "$made")" = 600 ]
check "backup: passes integrity_check" [ "$(q "$made" "PRAGMA integrity_check")" = ok ]
check "backup: a consistent snapshot (the writer's pairs are whole)" [ $(( $(q "$made" "SELECT count(*) FROM messages WHERE role = 'pair'") % 2 )) = 0 ]
check "backup: the writer really wrote meanwhile" [ "$(q big.db "SELECT count(*) FROM messages WHERE role = 'pair'")" -gt 0 ]
check "backup: holds the demo rows" [ "$(q "$made" "SELECT count(*) FROM messages WHERE role <> 'pair'")" = 100000 ]
check "backup: no partial file left" [ -z "$(ls -A backups | grep partial)" ]
check "retention: the 29-day-old backup stays (younger than keep_days)" [ "$(ls backups | grep -c "^big-$(stamp '29 days ago' | cut -c1-8)T.*Z\.db$")" = 1 ]
check "retention: kept and deleted counted" [ "$(jq -c '[.tasks[0].stats.backups_kept, .tasks[0].stats.backups_deleted]' out)" = "[2,2]" ]
check "retention: backups past keep_days went" [ "$(ls backups | grep -cE '^big-[0-9]{8}T[0-9]{6}Z\.db$')" = 2 ]
for foreign in notes.db "big-20200101T000000Z.db.bak" "other-20200101T000000Z.db" "big-2020.db"; do
  check "retention: foreign file $foreign untouched" [ -e "backups/$foreign" ]
done
mkdir lonely
printf '[tasks.backup]\ndirectory = "%s/lonely"\nkeep_days = 1\nkeep_last = 1\n' "$WORK" >lonely.toml
expect 0 "" "$HK" --db app.db -c lonely.toml run --task backup
check "retention: the only backup is never deleted" [ "$(ls lonely | wc -l)" = 1 ]
printf '[tasks.backup]\ndirectory = "%s/missing"\n' "$WORK" >bad.toml
expect 73 "does not exist" "$HK" --db app.db -c bad.toml run --task backup
printf '[tasks.backup]\ndirectory = "backups"\n' >bad.toml
expect 78 "must be an absolute path other than /" "$HK" --db app.db -c bad.toml run --task stats

# vacuum: space back after a large purge, sizes before and after reported.
cp big.db vac.db
"$HK" --db vac.db run --task conversations --allow-empty --sleep 0 -q
printf '[tasks.compact]\nkind = "vacuum"\nmode = "full"\n\n[tasks.inc]\nkind = "vacuum"\nmode = "incremental"\n\n[tasks.vacuum]\n' >vacuum.toml
size_before=$(stat -c %s vac.db)
expect 0 "would run full" "$HK" --db vac.db -c vacuum.toml -v run --task compact --dry-run
check "vacuum: a dry run changes nothing" [ "$(stat -c %s vac.db)" = "$size_before" ]
expect 0 "" "$HK" --db vac.db -c vacuum.toml --json run --task compact
check "vacuum full: reports the size before ($size_before)" [ "$(jq '.tasks[0].stats.bytes_before' out)" = "$size_before" ]
check "vacuum full: the file shrank to what it reports" [ "$(stat -c %s vac.db)" = "$(jq '.tasks[0].stats.bytes_after' out)" ] && [ "$(stat -c %s vac.db)" -lt "$size_before" ]
check "vacuum full: integrity ok" [ "$(q vac.db "PRAGMA integrity_check")" = ok ]
expect 0 "auto_vacuum is not INCREMENTAL" "$HK" --db vac.db -c vacuum.toml run --task inc
expect 0 "" "$HK" --db vac.db -c vacuum.toml run --task vacuum
finish
