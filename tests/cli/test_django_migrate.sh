#!/usr/bin/env bash
# A real Django database, made by Django's own migrate (auth_user_groups,
# auth_user_user_permissions and django_admin_log all reference auth_user), filled with plain
# SQL, purged with the plain three-table configuration, and checked against the same purge
# written as plain SQL on a copy. Skipped (77) only when Django is not installed.
SRC=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/lib.sh"
need_python django

PYTHONDONTWRITEBYTECODE=1 "$PYTHON" "$SRC/django/migrate.py" sqlite3 "$WORK/django.db" || { fail "migrate"; finish; }

# 200 users (every 4th never activated), 600 conversations, 3,000 messages (some orphans),
# ages spread over 90 days and shuffled against the ids; some old never-activated users are
# in a group, hold a permission or wrote an admin log entry.
ago() { echo "strftime('%Y-%m-%d %H:%M:%S', 'now', '-' || ($1) || ' days', '-12 hours') || '.123456'"; }
sqlite3 django.db <<SQL
CREATE TEMP TABLE n AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) SELECT i FROM n;
INSERT INTO auth_user (id, password, is_superuser, username, last_name, email, is_staff, is_active, date_joined, first_name)
  SELECT i, '!', 0, 'user' || i, '', 'u' || i || '@example.com', 0, i % 4 <> 0, $(ago '(i * 37) % 90'), ''
  FROM n WHERE i <= 200;
INSERT INTO chat_conversation (id, owner_id, title, created)
  SELECT i, (i * 7) % 200 + 1, 'c' || i, $(ago '(i * 53) % 90') FROM n WHERE i <= 600;
INSERT INTO chat_message (id, conversation_id, sent, content)
  SELECT i, CASE WHEN i % 97 = 0 THEN NULL WHEN i % 89 = 0 THEN 100000 + i ELSE (i * 11) % 600 + 1 END,
         $(ago '(i * 17) % 90'), 'hello' FROM n;
INSERT INTO auth_group (id, name) VALUES (1, 'staff'), (2, 'beta');
INSERT INTO auth_user_groups (user_id, group_id) SELECT id, 1 FROM auth_user WHERE id % 12 = 0;
INSERT INTO auth_user_groups (user_id, group_id) SELECT id, 2 FROM auth_user WHERE id % 24 = 0;
INSERT INTO auth_user_user_permissions (user_id, permission_id)
  SELECT 20, id FROM auth_permission ORDER BY id LIMIT 2;
INSERT INTO django_admin_log (action_time, object_id, object_repr, change_message, content_type_id, user_id, action_flag)
  VALUES ($(ago 1), '1', 'x', '[]', NULL, 40, 1), ($(ago 1), '2', 'y', '[]', NULL, 44, 2);
SQL
[ "$(q django.db 'SELECT count(*) FROM auth_user_groups')" -gt 0 ] || fail "no groups made"

{ printf '[database]\nurl = "sqlite://django.db"\n\n'; cat "$SRC/django/housekeep.toml"; } >django.toml

# The same policy as plain SQL, on a copy.
cp django.db expected.db
referenced="EXISTS (SELECT 1 FROM auth_user_groups r WHERE r.user_id = u.id) OR
  EXISTS (SELECT 1 FROM auth_user_user_permissions r WHERE r.user_id = u.id) OR
  EXISTS (SELECT 1 FROM django_admin_log r WHERE r.user_id = u.id)"
old_inactive="u.is_active = 0 AND u.date_joined < strftime('%Y-%m-%d %H:%M:%f', 'now', '-7 days')"
sqlite3 expected.db <<SQL
PRAGMA foreign_keys = ON;
DELETE FROM chat_message WHERE conversation_id IN
  (SELECT id FROM chat_conversation WHERE created < strftime('%Y-%m-%d %H:%M:%f', 'now', '-30 days'));
DELETE FROM chat_conversation WHERE created < strftime('%Y-%m-%d %H:%M:%f', 'now', '-30 days');
DELETE FROM chat_message WHERE conversation_id IS NULL OR conversation_id NOT IN (SELECT id FROM chat_conversation);
CREATE TEMP TABLE gone AS SELECT id FROM auth_user u WHERE $old_inactive AND NOT ($referenced);
DELETE FROM chat_message WHERE conversation_id IN (SELECT id FROM chat_conversation WHERE owner_id IN (SELECT id FROM gone));
DELETE FROM chat_conversation WHERE owner_id IN (SELECT id FROM gone);
DELETE FROM auth_user WHERE id IN (SELECT id FROM gone);
SQL
kept=$(q django.db "SELECT count(*) FROM auth_user u WHERE $old_inactive AND ($referenced)")
in_groups=$(q django.db "SELECT count(*) FROM auth_user u WHERE $old_inactive AND EXISTS (SELECT 1 FROM auth_user_groups r WHERE r.user_id = u.id)")
gone_users=$(( $(q django.db 'SELECT count(*) FROM auth_user') - $(q expected.db 'SELECT count(*) FROM auth_user') ))
check "the data keeps some users ($kept) and deletes some ($gone_users)" [ "$kept" -ge 3 ] && [ "$gone_users" -ge 3 ]

expect 0 "users: would keep $in_groups rows of 'auth_user' still referenced by auth_user_groups.user_id" \
  "$HK" -c django.toml --json run --task all --dry-run
cp out dry.json
expect 0 "users: kept $in_groups rows of 'auth_user' still referenced by auth_user_groups.user_id; add that table to the cascade" \
  "$HK" -c django.toml --json run --task all
check "the run succeeds" jq -e '.ok' out
check "every row the plain SQL deletes, and no other" [ "$(data_digest django.db)" = "$(data_digest expected.db)" ]
check "foreign keys intact" [ -z "$(q django.db 'PRAGMA foreign_key_check')" ]
check "users deleted as counted" jq -e ".tasks[2].deleted.auth_user == $gone_users" out
check "kept users reported per reference" \
  jq -e "[.tasks[2].kept[] | select(.referenced_by == \"auth_user_groups.user_id\")][0].rows == $in_groups" out
check "admin log and permissions keep users too" \
  jq -e '[.tasks[2].kept[].referenced_by] | index("django_admin_log.user_id") and index("auth_user_user_permissions.user_id")' out
check "the dry run reported the same deletions" [ "$(jq -c '[.tasks[0:3][].deleted]' dry.json)" = "$(jq -c '[.tasks[0:3][].deleted]' out)" ]
check "the dry run reported the same kept rows: $(jq -c '[.tasks[0:3][].kept]' dry.json out)" [ "$(jq -c '[.tasks[0:3][].kept]' dry.json)" = "$(jq -c '[.tasks[0:3][].kept]' out)" ]
expect 0 "" "$HK" -c django.toml --json history --task users --limit 1
check "history keeps the kept rows" jq -e "[.runs[0].kept[] | select(.referenced_by == \"auth_user_groups.user_id\")][0].rows == $in_groups" out

# referenced = "fail" refuses before deleting anything.
cp expected.db strict.db
q strict.db "UPDATE auth_user SET is_active = 0 WHERE id IN (SELECT user_id FROM auth_user_groups)"
strict=$(data_digest strict.db)
sed 's/^\[tasks.users\]$/[tasks.users]\nreferenced = "fail"/' django.toml > strict.toml
expect 65 "(referenced = \"fail\")" "$HK" -c strict.toml --db strict.db run --task users
check "the refusal names the reference" grep -q "rows of 'auth_user' still referenced by auth_user_groups.user_id" err
check "nothing deleted under referenced = fail" [ "$(data_digest strict.db)" = "$strict" ]
finish
