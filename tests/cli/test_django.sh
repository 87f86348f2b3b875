#!/usr/bin/env bash
# Other table and column names through configuration: a Django-style layout with datetime
# text columns and no ON DELETE CASCADE.
. "$(dirname "$0")/lib.sh"

now=$(date -u +%s)
ts() { date -u -d "@$((now - $1 * 86400))" '+%Y-%m-%d %H:%M:%S.123456'; }
sqlite3 django.db <<SQL
CREATE TABLE auth_user (id integer NOT NULL PRIMARY KEY AUTOINCREMENT, username varchar(150) NOT NULL,
  is_active bool NOT NULL, date_joined datetime NOT NULL);
CREATE TABLE chat_conversation (id integer NOT NULL PRIMARY KEY AUTOINCREMENT, created datetime NOT NULL,
  owner_id integer NOT NULL REFERENCES auth_user (id) DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE chat_message (id integer NOT NULL PRIMARY KEY AUTOINCREMENT, sent datetime NOT NULL,
  conversation_id integer NULL REFERENCES chat_conversation (id) DEFERRABLE INITIALLY DEFERRED);
CREATE INDEX chat_conversation_owner_id ON chat_conversation (owner_id);
CREATE INDEX chat_conversation_created ON chat_conversation (created);
CREATE INDEX chat_message_conversation_id ON chat_message (conversation_id);
INSERT INTO auth_user VALUES (1, 'alice', 1, '$(ts 300)'), (2, 'bob', 0, '$(ts 20)'), (3, 'carol', 0, '$(ts 2)');
INSERT INTO chat_conversation VALUES (1, '$(ts 40)', 1), (2, '$(ts 5)', 1), (3, '$(ts 10)', 2), (4, '$(ts 1)', 3);
INSERT INTO chat_message VALUES (1, '$(ts 40)', 1), (2, '$(ts 5)', 2), (3, '$(ts 10)', 3), (4, '$(ts 1)', 4),
  (5, '$(ts 3)', NULL), (6, '$(ts 3)', 42);
SQL
cat > django.toml <<'TOML'
[database]
url = "sqlite://django.db"

[tasks.conversations]
table = "chat_conversation"
time_column = "created"
time_format = "iso8601"
older_than = "30d"
children = [ { table = "chat_message", foreign_key = "conversation_id" } ]

[tasks.messages]
table = "chat_message"
foreign_key = "conversation_id"
parent = "chat_conversation"
time_column = "sent"

[tasks.users]
table = "auth_user"
older_than = "7d"
children = [ { table = "chat_conversation", foreign_key = "owner_id" } ]
TOML

expect 0 "" "$HK" -c django.toml --json run --task all --dry-run
cp out dry.json
expect 0 "" "$HK" -c django.toml --json run --task all
check "dry run equals real run" [ "$(jq -c '[.tasks[0:3][].deleted]' dry.json)" = "$(jq -c '[.tasks[0:3][].deleted]' out)" ]
check "users: bob (inactive, 20 days) went; alice and carol stay" [ "$(q django.db 'SELECT group_concat(id) FROM auth_user')" = "1,3" ]
check "conversations: 1 (40 days) and 3 (bob's) went" [ "$(q django.db 'SELECT group_concat(id) FROM chat_conversation')" = "2,4" ]
check "messages: only those of kept conversations" [ "$(q django.db 'SELECT group_concat(id) FROM chat_message')" = "2,4" ]
check "foreign keys intact" [ -z "$(q django.db 'PRAGMA foreign_key_check')" ]
check "stats use the configured names" jq -e '.tasks[3].stats.total_users == 2 and .tasks[3].stats.total_messages == 2' out

# HOUSEKEEP_CONFIG is read when --config is not given; the environment's URL beats the file's.
cp django.db other.db
HOUSEKEEP_CONFIG=django.toml HOUSEKEEP_DATABASE_URL=sqlite://other.db expect 0 "" "$HK" config show
check "config show names the effective database" grep -q 'url = "sqlite://other.db"' out
check "config show names the file" grep -q '# effective configuration (from django.toml)' out
HOUSEKEEP_CONFIG=django.toml DATABASE_URL=missing.db expect 66 "missing.db" "$HK" run --task stats
HOUSEKEEP_CONFIG=django.toml DATABASE_URL=missing.db expect 0 "" "$HK" --db other.db run --task stats
finish
