#!/usr/bin/env bash
# A real Django project's PostgreSQL database, made by Django's own migrate (psycopg2) on the
# server scripts/test starts, whose default TimeZone is not UTC: filled with plain SQL (ages
# shuffled against ids; old never-activated users in auth_user_groups, auth_user_user_permissions
# and django_admin_log), purged with the plain three-table configuration, and checked against
# the same purge as plain SQL in one transaction on a copy of the database. Skipped (77) only
# when there is no test server, Django or psycopg2.
SRC=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/lib.sh"
PYTHON=/usr/bin/python3
if [ -z "${HOUSEKEEP_TEST_PG_HOST:-}" ] || ! "$PYTHON" -c 'import django, psycopg2' 2>/dev/null; then
  echo "skipped: needs the PostgreSQL test server, python3-django and python3-psycopg2"
  exit 77
fi
DB=hk_django_$$
ADMIN="host=$HOUSEKEEP_TEST_PG_HOST port=$HOUSEKEEP_TEST_PG_PORT user=postgres"
q() { psql "$ADMIN dbname=$1" -qAtX -v ON_ERROR_STOP=1 -c "$2"; }
q postgres "CREATE DATABASE $DB" || exit 1
trap 'for d in $DB ${DB}_expected; do q postgres "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1; done; rm -rf "$WORK"' EXIT
PYTHONDONTWRITEBYTECODE=1 "$PYTHON" "$SRC/django/migrate.py" postgresql "$DB" "$HOUSEKEEP_TEST_PG_HOST" \
  "$HOUSEKEEP_TEST_PG_PORT" postgres || { fail "migrate"; finish; }
check "the server's default TimeZone is not UTC" [ "$(q "$DB" 'SHOW TimeZone')" != UTC ]

ago() { echo "now() - (($1) || ' days')::interval - interval '12 hours'"; }
q "$DB" "
INSERT INTO auth_user (id, password, is_superuser, username, last_name, email, is_staff, is_active, date_joined, first_name)
  SELECT i, '!', false, 'user' || i, '', 'u' || i || '@example.com', false, i % 4 <> 0, $(ago '(i * 37) % 90'), ''
  FROM generate_series(1, 200) i;
INSERT INTO chat_conversation (id, owner_id, title, created)
  SELECT i, (i * 7) % 200 + 1, 'c' || i, $(ago '(i * 53) % 90') FROM generate_series(1, 600) i;
INSERT INTO chat_message (id, conversation_id, sent, content)
  SELECT i, CASE WHEN i % 97 = 0 THEN NULL ELSE (i * 11) % 600 + 1 END, $(ago '(i * 17) % 90'), 'hello'
  FROM generate_series(1, 3000) i;
INSERT INTO auth_group (id, name) VALUES (1, 'staff'), (2, 'beta');
INSERT INTO auth_user_groups (user_id, group_id) SELECT id, 1 FROM auth_user WHERE id % 12 = 0;
INSERT INTO auth_user_groups (user_id, group_id) SELECT id, 2 FROM auth_user WHERE id % 24 = 0;
INSERT INTO auth_user_user_permissions (user_id, permission_id) SELECT 20, id FROM auth_permission ORDER BY id LIMIT 2;
INSERT INTO django_admin_log (action_time, object_id, object_repr, change_message, content_type_id, user_id, action_flag)
  VALUES ($(ago 1), '1', 'x', '[]', NULL, 40, 1), ($(ago 1), '2', 'y', '[]', NULL, 44, 2);"
q postgres "CREATE DATABASE ${DB}_expected TEMPLATE $DB"
URL="postgresql://postgres@/$DB?host=$HOUSEKEEP_TEST_PG_HOST&port=$HOUSEKEEP_TEST_PG_PORT"

cp "$SRC/django/housekeep.toml" django.toml

referenced="EXISTS (SELECT 1 FROM auth_user_groups r WHERE r.user_id = u.id) OR
  EXISTS (SELECT 1 FROM auth_user_user_permissions r WHERE r.user_id = u.id) OR
  EXISTS (SELECT 1 FROM django_admin_log r WHERE r.user_id = u.id)"
old_inactive="NOT u.is_active AND u.date_joined < now() - interval '7 days'"
q "${DB}_expected" "BEGIN;
DELETE FROM chat_message WHERE conversation_id IN (SELECT id FROM chat_conversation WHERE created < now() - interval '30 days');
DELETE FROM chat_conversation WHERE created < now() - interval '30 days';
DELETE FROM chat_message WHERE conversation_id IS NULL OR conversation_id NOT IN (SELECT id FROM chat_conversation);
CREATE TEMP TABLE gone AS SELECT id FROM auth_user u WHERE $old_inactive AND NOT ($referenced);
DELETE FROM chat_message WHERE conversation_id IN (SELECT id FROM chat_conversation WHERE owner_id IN (SELECT id FROM gone));
DELETE FROM chat_conversation WHERE owner_id IN (SELECT id FROM gone);
DELETE FROM auth_user WHERE id IN (SELECT id FROM gone);
COMMIT;"
digest() {
  for table in auth_user chat_conversation chat_message auth_user_groups django_admin_log; do
    q "$1" "SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM $table t"
  done
}
before=$(digest "$DB")
in_groups=$(q "$DB" "SELECT count(*) FROM auth_user u WHERE $old_inactive AND EXISTS (SELECT 1 FROM auth_user_groups r WHERE r.user_id = u.id)")
gone_users=$(( $(q "$DB" 'SELECT count(*) FROM auth_user') - $(q "${DB}_expected" 'SELECT count(*) FROM auth_user') ))
check "the data keeps some users ($in_groups in groups) and deletes some ($gone_users)" test "$in_groups" -ge 3 -a "$gone_users" -ge 3

expect 0 "users: would keep $in_groups rows of 'auth_user' still referenced by auth_user_groups.user_id" \
  "$HK" --db "$URL" -c django.toml --json run --task all --dry-run
cp out dry.json
check "the dry run changed nothing" [ "$(digest "$DB")" = "$before" ]
expect 0 "users: kept $in_groups rows of 'auth_user' still referenced by auth_user_groups.user_id" \
  "$HK" --db "$URL" -c django.toml --json run --task all
check "the run succeeds" jq -e '.ok' out
check "every row the plain SQL deletes, and no other" [ "$(digest "$DB")" = "$(digest "${DB}_expected")" ]
check "users deleted as counted" jq -e ".tasks[2].deleted.auth_user == $gone_users" out
check "admin log and permissions keep users too" \
  jq -e '[.tasks[2].kept[].referenced_by] | index("django_admin_log.user_id") and index("auth_user_user_permissions.user_id")' out
check "the dry run reported the same deletions" [ "$(jq -c '[.tasks[0:3][].deleted]' dry.json)" = "$(jq -c '[.tasks[0:3][].deleted]' out)" ]
finish
