// Each task against a database built with plain SQL, checked row by row against an
// independent query written here, not derived from the code under test.
#include "housekeep/archive.hpp"
#include "housekeep/error.hpp"
#include "housekeep/purge.hpp"
#include "housekeep/run.hpp"
#include "housekeep/task.hpp"

#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <thread>

using namespace housekeep;
using namespace std::chrono;
using test::Sql;

namespace {

RunOptions batched(bool dry_run, std::int64_t batch_size)
{
  RunOptions options;
  options.dry_run = dry_run;
  options.batch_size = batch_size;
  options.batch_time = Millis{0}; // exactly batch_size rows, however slow the machine
  return options;
}

// 60 users, 300 conversations, 1,500 messages; ages 0-89 days; every 7th user inactive;
// message ids 1491-1500 are orphans (NULL or dangling).
struct Classic {
  test::TempDir dir;
  std::string path = dir.file("app.db");
  Sql sql{path};
  TimePoint now = test::test_now();

  Classic()
  {
    create_classic_schema(sql);
    SQLite::Transaction transaction(sql.db());
    for (int u = 1; u <= 60; ++u) {
      sql.exec(fmt::format("INSERT INTO users VALUES ({0}, 'u{0}', 'u{0}@x', {1}, '{2}')", u, u % 7 == 0 ? 0 : 1,
                           test::sql_time(now - hours(24 * ((u * 13) % 90)) - minutes(u))));
    }
    for (int c = 1; c <= 300; ++c) {
      sql.exec(fmt::format("INSERT INTO conversations VALUES ({}, {}, 't', '{}')", c, (c % 60) + 1,
                           test::sql_time(now - hours(24 * (c % 90)) - minutes(c))));
    }
    for (int m = 1; m <= 1500; ++m) {
      const std::string parent = m > 1495   ? "NULL"
                                 : m > 1490 ? std::to_string(1000 + m)
                                            : std::to_string((m % 300) + 1);
      sql.exec(fmt::format("INSERT INTO messages VALUES ({}, {}, 'user', 'hi', '{}', NULL)", m, parent,
                           test::sql_time(now - hours(m % 2000))));
    }
    transaction.commit();
  }

  std::unique_ptr<Store> open(AccessMode mode = AccessMode::read_write)
  {
    return open_store(parse_database_url(path), OpenOptions{mode, milliseconds(1000)});
  }

  std::string cutoff(hours age) const { return test::sql_time(now - age); }
};

RunReport run(Store& store, const Config& config, const std::vector<std::string>& tasks, RunOptions options = {})
{
  test::FakeClock clock(test::test_now());
  test::CapturedLog log;
  RunRequest request;
  request.tasks = resolve_tasks(config, tasks);
  request.options = options;
  return run_tasks(store, config, request, clock, log.logger());
}

std::int64_t deleted(const RunReport& report, const std::string& task, const std::string& table)
{
  for (const auto& t : report.tasks) {
    if (t.task == task) {
      for (const auto& [name, rows] : t.deleted) {
        if (name == table) {
          return rows;
        }
      }
    }
  }
  return -1;
}

// A log stream that asks the run to stop when a line containing `cue` is written: a stop
// that arrives inside a task, at a point the task's own log names.
class StopOnLine {
public:
  StopOnLine(StopFlag& flag, std::string cue) : m_flag(flag), m_cue(std::move(cue))
  {
    cookie_io_functions_t io{};
    io.write = [](void* self, const char* data, std::size_t size) -> ssize_t {
      auto* me = static_cast<StopOnLine*>(self);
      me->m_text.append(data, size);
      if (me->m_text.find(me->m_cue) != std::string::npos) {
        me->m_flag.request(StopReason::interrupted);
      }
      return static_cast<ssize_t>(size);
    };
    m_file = fopencookie(this, "w", io);
    std::setvbuf(m_file, nullptr, _IONBF, 0);
  }
  ~StopOnLine() { std::fclose(m_file); }
  StopOnLine(const StopOnLine&) = delete;
  StopOnLine& operator=(const StopOnLine&) = delete;

  std::FILE* file() const { return m_file; }

private:
  StopFlag& m_flag;
  std::string m_cue;
  std::string m_text;
  std::FILE* m_file = nullptr;
};

} // namespace

TEST_CASE("a dry run stops between its counting stretches when asked, deleting nothing", "[purge]")
{
  Classic db;
  const std::int64_t rows_before = db.sql.integer("SELECT (SELECT count(*) FROM conversations) + "
                                                  "(SELECT count(*) FROM messages)");
  StopFlag stop;
  // Logged by the task once it knows its cutoff, before it counts anything.
  StopOnLine stream(stop, "deleting rows before");
  const Logger log(LogLevel::debug, LogFormat::text, false, stream.file());
  test::FakeClock clock(test::test_now());
  auto store = db.open();
  const Config config = test::default_config();
  RunRequest request;
  request.tasks = resolve_tasks(config, {"conversations"});
  request.options.dry_run = true;
  request.stop = &stop;
  const RunReport report = run_tasks(*store, config, request, clock, log);
  REQUIRE(report.tasks.size() == 1);
  CHECK(report.tasks[0].status == TaskStatus::interrupted);
  CHECK(report.tasks[0].error.find("interrupted while counting (nothing was deleted)") != std::string::npos);
  CHECK(db.sql.integer("SELECT (SELECT count(*) FROM conversations) + (SELECT count(*) FROM messages)") == rows_before);
}

TEST_CASE("conversations: exactly the old ones go / with their messages", "[purge]")
{
  Classic db;
  const std::string cutoff = db.cutoff(hours(24 * 30));
  const auto keep_conversations = db.sql.ids("SELECT id FROM conversations WHERE created_at >= '" + cutoff + "'");
  const auto keep_messages =
    db.sql.ids("SELECT id FROM messages WHERE conversation_id IS NULL OR conversation_id NOT IN "
               "(SELECT id FROM conversations WHERE created_at < '" +
               cutoff + "')");
  const auto users_before = db.sql.ids("SELECT id FROM users");
  REQUIRE(keep_conversations.size() < 300);
  REQUIRE(keep_conversations.size() > 50);

  auto store = db.open();
  const auto report = run(*store, Config{}, {"conversations"}, batched(false, 7));
  REQUIRE(report.ok());
  CHECK(db.sql.ids("SELECT id FROM conversations") == keep_conversations);
  CHECK(db.sql.ids("SELECT id FROM messages") == keep_messages);
  CHECK(db.sql.ids("SELECT id FROM users") == users_before);
  CHECK(deleted(report, "conversations", "conversations") ==
        static_cast<std::int64_t>(300 - keep_conversations.size()));
  CHECK(deleted(report, "conversations", "messages") == static_cast<std::int64_t>(1500 - keep_messages.size()));
  CHECK(db.sql.integer("SELECT count(*) FROM pragma_foreign_key_check('conversations')") == 0);
  // The old conversations' messages lie densely among the message ids (every third of them
  // stays): a walk of the messages table in its own key order deletes them first, in batches
  // of 7 too, and the walk of the conversations then finds none left.
  const auto gone_messages = static_cast<std::int64_t>(1500 - keep_messages.size());
  const auto gone_conversations = static_cast<std::int64_t>(300 - keep_conversations.size());
  CHECK(report.tasks[0].batches == (gone_messages + 6) / 7 + (gone_conversations + 6) / 7);
  // Where the time went, phase by phase, each named once, in the order first entered.
  std::vector<std::string> phases;
  for (const auto& phase : report.tasks[0].phases) {
    phases.push_back(phase.phase);
    CHECK(phase.wall >= phase.cpu - milliseconds(5)); // one thread: its CPU time fits in the wall time
  }
  CHECK(phases ==
        std::vector<std::string>{"checking", "planning", "deleting", "waiting for standbys", "pausing", "statistics"});
}

TEST_CASE("sparse children are deleted with their parents, not by a walk of their own", "[purge]")
{
  test::TempDir dir;
  Sql sql(dir.file("s.db"));
  create_classic_schema(sql);
  sql.exec("INSERT INTO users VALUES (1, 'a', 'a', 1, '2026-01-01 00:00:00')");
  sql.exec("INSERT INTO conversations VALUES (1, 1, 'old', '2026-01-01 00:00:00')");
  sql.exec("INSERT INTO conversations VALUES (2, 1, 'old', '2026-01-02 00:00:00')");
  sql.exec("INSERT INTO conversations VALUES (3, 1, 'new', '2026-06-15 11:00:00')");
  {
    SQLite::Transaction transaction(sql.db());
    // 1,000 messages of the new conversation; the two old ones own ids 1 and 1000 only: 2 rows
    // in a key range of 1,000, far below the density that pays for scanning it.
    for (int m = 1; m <= 1000; ++m) {
      const int parent = m == 1 ? 1 : m == 1000 ? 2 : 3;
      sql.exec(fmt::format("INSERT INTO messages VALUES ({}, {}, 'r', 'c', '2026-06-15 11:00:00', NULL)", m, parent));
    }
    transaction.commit();
  }
  auto store = open_store(parse_database_url(dir.file("s.db")), OpenOptions{});
  const auto report = run(*store, Config{}, {"conversations"}, batched(false, 1));
  REQUIRE(report.ok());
  CHECK(deleted(report, "conversations", "conversations") == 2);
  CHECK(deleted(report, "conversations", "messages") == 2);
  CHECK(report.tasks[0].batches == 2); // one per conversation, each with its message
  CHECK(sql.integer("SELECT count(*) FROM messages") == 998);
  CHECK(sql.integer("SELECT count(*) FROM messages WHERE conversation_id <> 3") == 0);
}

TEST_CASE("a leaf of the cascade needs no key column of its own", "[purge]")
{
  test::TempDir dir;
  Sql sql(dir.file("k.db"));
  create_classic_schema(sql);
  sql.exec("CREATE TABLE notes (conversation_id INTEGER NOT NULL REFERENCES conversations (id), body TEXT)");
  sql.exec("INSERT INTO users VALUES (1, 'a', 'a', 1, '2026-01-01 00:00:00')");
  sql.exec("INSERT INTO conversations VALUES (1, 1, 'old', '2026-01-01 00:00:00')");
  sql.exec("INSERT INTO conversations VALUES (2, 1, 'new', '2026-06-15 11:00:00')");
  sql.exec("INSERT INTO notes VALUES (1, 'old'), (1, 'old too'), (2, 'new')");
  const Config config = parse_config(R"toml(
[tasks.conversations]
children = [ { table = "messages", foreign_key = "conversation_id" },
             { table = "notes", foreign_key = "conversation_id" } ]
)toml",
                                     "notes.toml");
  auto store = open_store(parse_database_url(dir.file("k.db")), OpenOptions{});
  const auto report = run(*store, config, {"conversations"});
  REQUIRE(report.ok());
  CHECK(deleted(report, "conversations", "notes") == 2);
  CHECK(sql.integer("SELECT count(*) FROM notes WHERE conversation_id = 1") == 0);
  CHECK(sql.integer("SELECT count(*) FROM notes") == 1);

  // Without a key the emptying guard adds up what the sets delete: the last note would go.
  RunOptions wide;
  wide.older_than = Millis{std::chrono::minutes(30)};
  try {
    run(*store, config, {"conversations"}, wide);
    FAIL("not refused");
  } catch (const RefusedError& e) {
    CHECK_THAT(e.what(), Catch::Contains("would delete every row of 'notes' (1 rows)"));
  }
  CHECK(sql.integer("SELECT count(*) FROM notes") == 1);
}

TEST_CASE("messages: exactly the orphans go", "[purge]")
{
  Classic db;
  const auto keep = db.sql.ids("SELECT id FROM messages WHERE conversation_id IN (SELECT id FROM conversations)");
  auto store = db.open();
  const auto report = run(*store, Config{}, {"messages"});
  REQUIRE(report.ok());
  CHECK(db.sql.ids("SELECT id FROM messages") == keep);
  CHECK(deleted(report, "messages", "messages") == 10);
  CHECK(db.sql.integer("SELECT count(*) FROM pragma_foreign_key_check") == 0);
}

TEST_CASE("users: never-activated old accounts go / with conversations and their messages", "[purge]")
{
  Classic db;
  const std::string cutoff = db.cutoff(hours(24 * 7));
  const std::string doomed = "SELECT id FROM users WHERE is_active = 0 AND date_joined < '" + cutoff + "'";
  const auto keep_users = db.sql.ids("SELECT id FROM users WHERE id NOT IN (" + doomed + ")");
  const auto keep_conversations = db.sql.ids("SELECT id FROM conversations WHERE user_id NOT IN (" + doomed + ")");
  const auto keep_messages =
    db.sql.ids("SELECT id FROM messages WHERE conversation_id IS NULL OR conversation_id NOT IN "
               "(SELECT id FROM conversations WHERE user_id IN (" +
               doomed + "))");
  REQUIRE(keep_users.size() < 60);
  auto store = db.open();
  const auto report = run(*store, Config{}, {"users"});
  REQUIRE(report.ok());
  CHECK(db.sql.ids("SELECT id FROM users") == keep_users);
  CHECK(db.sql.ids("SELECT id FROM conversations") == keep_conversations);
  CHECK(db.sql.ids("SELECT id FROM messages") == keep_messages);
  CHECK(db.sql.integer("SELECT count(*) FROM pragma_foreign_key_check('conversations')") == 0);
}

TEST_CASE("dry run of all counts what the real run then deletes / and writes nothing", "[purge]")
{
  for (std::int64_t batch : {1, 3, 1000}) {
    INFO("batch size " << batch);
    Classic db;
    const std::string before = test::file_bytes(db.path);
    RunReport dry;
    {
      auto store = db.open(AccessMode::read_only);
      dry = run(*store, Config{}, {"all"}, batched(true, batch));
    }
    CHECK(test::file_bytes(db.path) == before);
    auto store = db.open();
    const auto real = run(*store, Config{}, {"all"}, batched(false, batch));
    REQUIRE(dry.ok());
    REQUIRE(real.ok());
    REQUIRE(dry.tasks.size() == 4);
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(dry.tasks[i].deleted == real.tasks[i].deleted);
    }
    CHECK(deleted(real, "users", "users") > 0);
    CHECK(db.sql.integer("SELECT count(*) FROM pragma_foreign_key_check") == 0);
    // A second run finds nothing left to do.
    const auto again = run(*store, Config{}, {"conversations", "messages", "users"});
    for (const auto& task : again.tasks) {
      for (const auto& [table, rows] : task.deleted) {
        CHECK(rows == 0);
      }
    }
  }
}

TEST_CASE("batch boundaries: exactly one batch / one more than a batch / one row", "[purge]")
{
  for (int rows : {1, 5, 6}) {
    test::TempDir dir;
    Sql sql(dir.file("b.db"));
    create_classic_schema(sql);
    sql.exec("INSERT INTO users VALUES (1, 'a', 'a', 1, '2026-01-01 00:00:00')");
    for (int c = 1; c <= rows; ++c) {
      sql.exec(fmt::format("INSERT INTO conversations VALUES ({}, 1, 't', '2026-01-0{} 00:00:00')", c, c));
      sql.exec(fmt::format("INSERT INTO messages VALUES ({0}, {0}, 'r', 'c', '2026-01-01 00:00:00', NULL)", c));
    }
    sql.exec("INSERT INTO conversations VALUES (100, 1, 'new', '2026-06-15 11:00:00')");
    sql.exec("INSERT INTO messages VALUES (100, 100, 'r', 'c', '2026-06-15 11:00:00', NULL)");
    auto store = open_store(parse_database_url(dir.file("b.db")), OpenOptions{});
    const auto report = run(*store, Config{}, {"conversations"}, batched(false, 5));
    REQUIRE(report.ok());
    CHECK(deleted(report, "conversations", "conversations") == rows);
    CHECK(deleted(report, "conversations", "messages") == rows);
    // Their messages first (a walk of their own: one per conversation, ids in one range), then
    // the conversations, both in batches of 5.
    CHECK(report.tasks[0].batches == 2 * ((rows + 4) / 5));
    CHECK(sql.ids("SELECT id FROM conversations") == std::set<std::int64_t>{100});
  }
}

TEST_CASE("older-than overrides the retention", "[purge]")
{
  Classic db;
  const auto keep = db.sql.ids("SELECT id FROM conversations WHERE created_at >= '" + db.cutoff(hours(24 * 60)) + "'");
  auto store = db.open();
  RunOptions options;
  options.older_than = hours(24 * 60);
  REQUIRE(run(*store, Config{}, {"conversations"}, options).ok());
  CHECK(db.sql.ids("SELECT id FROM conversations") == keep);
}

TEST_CASE("a Django-style schema with other names works through configuration", "[purge]")
{
  test::TempDir dir;
  Sql sql(dir.file("django.db"));
  // Django declares no ON DELETE CASCADE and stores datetimes as text with microseconds.
  sql.exec(R"sql(
    CREATE TABLE auth_user (id INTEGER PRIMARY KEY, username TEXT, is_active BOOL NOT NULL,
                            date_joined DATETIME NOT NULL);
    CREATE TABLE chat_conversation (uuid TEXT PRIMARY KEY,
                                    owner_id INTEGER NOT NULL REFERENCES auth_user (id) DEFERRABLE INITIALLY DEFERRED,
                                    created DATETIME NOT NULL);
    CREATE TABLE chat_message (id INTEGER PRIMARY KEY,
                               conversation_id TEXT NULL REFERENCES chat_conversation (uuid) DEFERRABLE INITIALLY DEFERRED,
                               sent DATETIME NOT NULL);
    INSERT INTO auth_user VALUES (1, 'old-inactive', 0, '2026-01-01 10:00:00.123456'),
                                 (2, 'old-active', 1, '2026-01-01 10:00:00'),
                                 (3, 'new-inactive', 0, '2026-06-14 10:00:00.5');
    INSERT INTO chat_conversation VALUES ('c-old', 2, '2026-04-01 00:00:00.000001'),
                                         ('c-new', 2, '2026-06-10 00:00:00'),
                                         ('c-of-1', 1, '2026-06-12 00:00:00');
    INSERT INTO chat_message VALUES (1, 'c-old', '2026-04-01 00:00:01'), (2, 'c-new', '2026-06-10 00:00:01'),
                                    (3, 'c-of-1', '2026-06-12 00:00:01'), (4, 'gone', '2026-06-12 00:00:01'),
                                    (5, NULL, '2026-06-12 00:00:01');
  )sql");
  const Config config = parse_config(R"toml(
[tasks.conversations]
table = "chat_conversation"
id_column = "uuid"
time_column = "created"
children = [ { table = "chat_message", foreign_key = "conversation_id" } ]
[tasks.messages]
table = "chat_message"
foreign_key = "conversation_id"
parent = "chat_conversation"
parent_id_column = "uuid"
time_column = "sent"
[tasks.users]
table = "auth_user"
children = [ { table = "chat_conversation", foreign_key = "owner_id", id_column = "uuid" } ]
)toml",
                                     "django.toml");
  auto store = open_store(parse_database_url(dir.file("django.db")), OpenOptions{});
  const auto report = run(*store, config, {"all"});
  REQUIRE(report.ok());
  CHECK(sql.ids("SELECT id FROM auth_user") == std::set<std::int64_t>{2, 3});
  CHECK(sql.integer("SELECT count(*) FROM chat_conversation WHERE uuid = 'c-new'") == 1);
  CHECK(sql.integer("SELECT count(*) FROM chat_conversation") == 1);
  CHECK(sql.ids("SELECT id FROM chat_message") == std::set<std::int64_t>{2});
  CHECK(report.tasks[3].stats[0] == std::pair<std::string, std::int64_t>{"total_users", 2});
  CHECK(sql.integer("SELECT count(*) FROM pragma_foreign_key_check") == 0);
}

TEST_CASE("schema problems stop the task before anything is deleted", "[purge]")
{
  Classic db;
  auto store = db.open();
  const auto expect_data_error = [&](const std::string& toml, const std::string& task, const std::string& fragment) {
    INFO(toml);
    const auto report = run(*store, parse_config(toml, "c.toml"), {task});
    REQUIRE_FALSE(report.ok());
    CHECK(report.tasks[0].code == ExitCode::data);
    CHECK(report.tasks[0].error.find(fragment) != std::string::npos);
    CHECK(db.sql.integer("SELECT count(*) FROM messages") == 1500);
    CHECK(db.sql.integer("SELECT count(*) FROM conversations") == 300);
  };
  // The run's only table missing, in a database without housekeep's history: the whole run
  // stops before writing anything, not even history (it may not be housekeep's database).
  try {
    run(*store, parse_config("[tasks.conversations]\ntable = \"conversation\"\n", "c.toml"), {"conversations"});
    FAIL("no exception");
  } catch (const DataError& e) {
    CHECK_THAT(e.what(), Catch::Contains("tasks.conversations: table 'conversation' does not exist"));
    CHECK_THAT(e.hint(), Catch::Contains("[tasks.conversations]"));
  }
  CHECK(db.sql.integer("SELECT count(*) FROM sqlite_master WHERE name = 'housekeep_runs'") == 0);
  // Once housekeep has run here, the task reports it and the failure is recorded.
  REQUIRE(run(*store, Config{}, {"stats"}).ok());
  expect_data_error("[tasks.conversations]\ntable = \"conversation\"\n", "conversations",
                    "table 'conversation' does not exist");
  expect_data_error("[tasks.conversations]\ntime_column = \"created\"\n", "conversations",
                    "column 'created' does not exist in table 'conversations'");
  expect_data_error("[tasks.conversations]\nchildren = []\nreferenced = \"fail\"\n", "conversations",
                    "rows of 'conversations' still referenced by messages.conversation_id");
  expect_data_error("[tasks.conversations]\nchildren = [ { table = \"messages\", foreign_key = \"conv\" } ]\n",
                    "conversations", "column 'conv' does not exist in table 'messages'");
  expect_data_error("[tasks.messages]\nparent = \"threads\"\n", "messages", "table 'threads' does not exist");
  db.sql.exec("UPDATE conversations SET created_at = 'last week' WHERE id = 5");
  expect_data_error("", "conversations", "'last week', which is not an ISO-8601 UTC timestamp");
}

std::int64_t kept_rows(const TaskResult& task, const std::string& referenced_by)
{
  for (const auto& k : task.kept) {
    if (k.referenced_by == referenced_by) {
      return k.rows;
    }
  }
  return 0;
}

// The classic database with tables the cascade does not list: groups of users (as Django's
// auth_user_groups), and attachments of messages, two levels below users.
struct Referenced : Classic {
  std::int64_t dangling = 5; // messages 1491-1495 name no conversation: the orphans' task's

  Referenced()
  {
    sql.exec("CREATE TABLE user_groups (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), "
             "grp INTEGER NOT NULL)");
    sql.exec("CREATE INDEX user_groups_user ON user_groups (user_id)");
    sql.exec("CREATE TABLE attachments (id INTEGER PRIMARY KEY, message_id INTEGER REFERENCES messages (id))");
    sql.exec("CREATE INDEX attachments_message ON attachments (message_id)");
    // Users 1-6 never activated too (all old); every third user in a group (some twice); one
    // attachment on a message of every 37th conversation, and of conversation 64 (user 5's).
    sql.exec("UPDATE users SET is_active = 0 WHERE id <= 6");
    sql.exec("INSERT INTO user_groups (user_id, grp) SELECT id, 1 FROM users WHERE id % 3 = 0");
    sql.exec("INSERT INTO user_groups (user_id, grp) SELECT id, 2 FROM users WHERE id % 6 = 0");
    sql.exec("INSERT INTO attachments (message_id) SELECT min(id) FROM messages WHERE conversation_id % 37 = 0 "
             "OR conversation_id = 64 "
             "GROUP BY conversation_id");
  }
};

TEST_CASE("rows still referenced from outside the cascade are kept, row by row", "[purge][referenced]")
{
  const bool timed = GENERATE(false, true);
  Referenced db;
  auto store = db.open();
  const std::string old_inactive =
    fmt::format("FROM users u WHERE u.is_active = 0 AND u.date_joined < '{}'", db.cutoff(hours(24 * 7)));
  const std::string referenced =
    "(EXISTS (SELECT 1 FROM user_groups g WHERE g.user_id = u.id) OR EXISTS (SELECT 1 FROM conversations c "
    "JOIN messages m ON m.conversation_id = c.id JOIN attachments a ON a.message_id = m.id WHERE c.user_id = u.id))";
  const auto expected_users = db.sql.ids("SELECT u.id " + old_inactive + " AND NOT " + referenced + " ORDER BY 1");
  const auto kept_users = db.sql.ids("SELECT u.id " + old_inactive + " AND " + referenced + " ORDER BY 1");
  const auto in_groups = db.sql.integer("SELECT count(*) " + old_inactive +
                                        " AND EXISTS (SELECT 1 FROM user_groups g WHERE g.user_id = u.id)");
  REQUIRE(expected_users.size() >= 2); // the data keeps some and deletes some
  REQUIRE(kept_users.size() >= 2);
  REQUIRE(in_groups >= 1);
  const auto users_before = db.sql.integer("SELECT count(*) FROM users");
  const std::string owned_by_kept = fmt::format(
    "SELECT (SELECT count(*) FROM conversations WHERE user_id IN ({0})) * 100000 + (SELECT count(*) FROM messages "
    "WHERE conversation_id IN (SELECT id FROM conversations WHERE user_id IN ({0})))",
    fmt::join(kept_users, ","));
  const auto owned_before = db.sql.integer(owned_by_kept);
  REQUIRE(owned_before > 0);
  const auto survivors = db.sql.ids("SELECT id FROM users WHERE id NOT IN (SELECT u.id " + old_inactive + " AND NOT " +
                                    referenced + ") ORDER BY 1");

  RunOptions options = timed ? RunOptions{} : batched(false, 1);
  options.dry_run = true;
  const auto dry = run(*store, test::default_config(), {"users"}, options);
  REQUIRE(dry.ok());
  options.dry_run = false;
  const auto report = run(*store, test::default_config(), {"users"}, options);
  REQUIRE(report.ok());
  CHECK(deleted(report, "users", "users") == static_cast<std::int64_t>(expected_users.size()));
  CHECK(db.sql.ids("SELECT id FROM users ORDER BY 1") == survivors);
  CHECK(db.sql.integer("SELECT count(*) FROM users") ==
        users_before - static_cast<std::int64_t>(expected_users.size()));
  CHECK(kept_rows(report.tasks[0], "user_groups.user_id") == in_groups);
  CHECK(kept_rows(report.tasks[0], "attachments.message_id") >= 1);
  CHECK(dry.tasks[0].kept == report.tasks[0].kept);
  CHECK(dry.tasks[0].deleted == report.tasks[0].deleted);
  CHECK(db.sql.integer("SELECT count(*) FROM pragma_foreign_key_check") == db.dangling);
  // A kept user keeps its conversations and messages.
  CHECK(db.sql.integer(owned_by_kept) == owned_before);
  for (const auto id : kept_users) {
    INFO(id);
    CHECK(db.sql.integer(fmt::format("SELECT count(*) FROM users WHERE id = {}", id)) == 1);
  }
}

TEST_CASE("conversations referenced through their messages stay, with their messages", "[purge][referenced]")
{
  Referenced db;
  auto store = db.open();
  const std::string cutoff = db.cutoff(hours(24 * 30));
  const auto attached = db.sql.ids(fmt::format(
    "SELECT DISTINCT m.conversation_id FROM messages m JOIN attachments a ON a.message_id = m.id JOIN conversations c "
    "ON c.id = m.conversation_id WHERE c.created_at < '{}' ORDER BY 1",
    cutoff));
  const auto expected =
    db.sql.integer(fmt::format("SELECT count(*) FROM conversations WHERE created_at < '{}'", cutoff)) -
    static_cast<std::int64_t>(attached.size());
  REQUIRE(attached.size() >= 2);
  const auto messages_kept = db.sql.integer(
    fmt::format("SELECT count(*) FROM messages WHERE conversation_id IN ({})", fmt::join(attached, ",")));
  const auto report = run(*store, test::default_config(), {"conversations"}, batched(false, 7));
  REQUIRE(report.ok());
  CHECK(deleted(report, "conversations", "conversations") == expected);
  CHECK(kept_rows(report.tasks[0], "attachments.message_id") == static_cast<std::int64_t>(attached.size()));
  CHECK(report.tasks[0].kept.at(0).through == "messages");
  CHECK(db.sql.integer(fmt::format("SELECT count(*) FROM messages WHERE conversation_id IN ({})",
                                   fmt::join(attached, ","))) == messages_kept);
  CHECK(db.sql.integer("SELECT count(*) FROM pragma_foreign_key_check") == db.dangling);
}

TEST_CASE("referenced = fail stops before the first delete: a parent the schema contradicts is refused",
          "[purge][referenced]")
{
  Referenced db;
  auto store = db.open();
  auto report = run(*store, parse_config("[tasks.users]\nreferenced = \"fail\"\n", "c.toml"), {"users"});
  REQUIRE_FALSE(report.ok());
  CHECK(report.tasks[0].code == ExitCode::data);
  INFO(report.tasks[0].error);
  CHECK(report.tasks[0].error.find("still referenced by user_groups.user_id") != std::string::npos);
  CHECK(db.sql.integer("SELECT count(*) FROM users") == 60);
  CHECK(db.sql.integer("SELECT count(*) FROM conversations") == 300);

  report = run(*store, parse_config("[tasks.messages]\nparent = \"users\"\n", "c.toml"), {"messages"});
  REQUIRE_FALSE(report.ok());
  CHECK(report.tasks[0].code == ExitCode::config);
  CHECK(report.tasks[0].error.find("REFERENCES 'conversations.id'") != std::string::npos);
  CHECK(db.sql.integer("SELECT count(*) FROM messages") == 1500);
}

TEST_CASE("a failing task does not stop the next one", "[purge]")
{
  Classic db;
  auto store = db.open();
  const auto report =
    run(*store, parse_config("[tasks.conversations]\ntable = \"nope\"\n", "c.toml"), {"conversations", "messages"});
  CHECK_FALSE(report.ok());
  CHECK(report.first_failure()->task == "conversations");
  CHECK(report.tasks[1].status == TaskStatus::ok);
  CHECK(deleted(report, "messages", "messages") == 10);
}

namespace {

// A clock whose pauses between batches check, with independent SQL, that no batch boundary
// leaves a child without its parent (beyond the orphans the data starts with).
struct CheckingClock final : Clock {
  const test::FakeClock inner{test::test_now()};
  Sql& sql;
  mutable int pauses = 0;
  mutable std::int64_t new_orphans = 0;
  explicit CheckingClock(Sql& s) : sql(s) {}
  TimePoint now() const override { return inner.now(); }
  void sleep_for(Millis d) const override
  {
    inner.sleep_for(d);
    ++pauses;
    new_orphans += sql.integer("SELECT count(*) FROM messages WHERE id <= 1490 AND conversation_id "
                               "NOT IN (SELECT id FROM conversations)");
    new_orphans += sql.integer("SELECT count(*) FROM conversations WHERE user_id NOT IN (SELECT id FROM users)");
  }
};

// Every table's rows, every column quoted with its type, in key order.
std::string dump(Sql& sql)
{
  std::string out;
  for (const char* table : {"users", "conversations", "messages"}) {
    SQLite::Statement columns(sql.db(), fmt::format("SELECT name FROM pragma_table_info('{}')", table));
    std::vector<std::string> parts;
    while (columns.executeStep()) {
      parts.push_back(fmt::format("typeof({0}) || ':' || quote({0})", columns.getColumn(0).getString()));
    }
    SQLite::Statement rows(sql.db(),
                           fmt::format("SELECT {} FROM {} ORDER BY id", fmt::join(parts, " || ',' || "), table));
    while (rows.executeStep()) {
      out += fmt::format("{}: {}\n", table, rows.getColumn(0).getString());
    }
  }
  return out;
}

} // namespace

TEST_CASE("batches drain exactly the policy at any size, fixed or sized by time / no child outlives "
          "its parent at a batch boundary",
          "[purge]")
{
  for (const bool timed : {false, true}) {
    for (std::int64_t size : {1, 7, 1000, 5000}) {
      INFO((timed ? "time-sized, at most " : "fixed, ") << size << " rows");
      Classic db;
      const std::string conversation_cutoff = db.cutoff(hours(24 * 30));
      const std::string user_cutoff = db.cutoff(hours(24 * 7));
      const std::string doomed_users =
        "SELECT id FROM users WHERE is_active = 0 AND date_joined < '" + user_cutoff + "'";
      const std::string doomed_conversations = "SELECT id FROM conversations WHERE created_at < '" +
                                               conversation_cutoff + "' OR user_id IN (" + doomed_users + ")";
      const auto keep_users = db.sql.ids("SELECT id FROM users WHERE id NOT IN (" + doomed_users + ")");
      const auto keep_conversations =
        db.sql.ids("SELECT id FROM conversations WHERE id NOT IN (" + doomed_conversations + ")");
      const auto keep_messages = db.sql.ids("SELECT id FROM messages WHERE conversation_id IN (SELECT id FROM "
                                            "conversations WHERE id NOT IN (" +
                                            doomed_conversations + "))");
      CheckingClock clock(db.sql);
      test::CapturedLog log;
      RunRequest request;
      request.tasks = resolve_tasks(test::default_config(), {"all"});
      request.options.batch_size = size;
      request.options.batch_time = timed ? milliseconds(5) : milliseconds(0);
      request.options.sleep = milliseconds(1);
      auto store = db.open();
      const auto report = run_tasks(*store, Config{}, request, clock, log.logger());
      REQUIRE(report.ok());
      CHECK(db.sql.ids("SELECT id FROM users") == keep_users);
      CHECK(db.sql.ids("SELECT id FROM conversations") == keep_conversations);
      CHECK(db.sql.ids("SELECT id FROM messages") == keep_messages);
      CHECK(clock.new_orphans == 0);
      if (size == 1) {
        CHECK(clock.pauses > 100); // one pause between every two batches: the checks ran
      }
      CHECK(db.sql.integer("SELECT count(*) FROM pragma_foreign_key_check") == 0);
    }
  }
}

TEST_CASE("time-sized batches over sparse rows: chunks stop at a fence, and exactly the policy goes", "[purge]")
{
  test::TempDir dir;
  Sql sql(dir.file("sparse.db"));
  create_classic_schema(sql);
  sql.exec("INSERT INTO users VALUES (1, 'a', 'a', 1, '2026-06-15 11:00:00')");
  sql.exec("INSERT INTO conversations VALUES (1, 1, 't', '2026-06-15 11:00:00')");
  sql.exec("BEGIN");
  for (int id = 1; id <= 3000; ++id) {
    // Three orphans (a conversation that does not exist) among live messages, one at the end.
    const bool orphan = id == 10 || id == 1500 || id == 3000;
    sql.exec(
      fmt::format("INSERT INTO messages VALUES ({}, {}, 'r', 'c', '2026-06-15 11:00:00', NULL)", id, orphan ? 99 : 1));
  }
  sql.exec("COMMIT");
  RunOptions options;
  options.batch_size = 8; // chunks of one row, each reading at most a few rows of the walk
  options.batch_time = milliseconds(10000);
  options.sleep = milliseconds(1);
  auto store = open_store(parse_database_url(dir.file("sparse.db")), OpenOptions{});
  const auto report = run(*store, Config{}, {"messages"}, options);
  REQUIRE(report.ok());
  CHECK(deleted(report, "messages", "messages") == 3);
  CHECK(sql.integer("SELECT count(*) FROM messages") == 2997);
  CHECK(sql.integer("SELECT count(*) FROM messages WHERE conversation_id = 99") == 0);
}

TEST_CASE("pauses: the whole sleep after fixed-size batches, in proportion after short time-sized ones", "[purge]")
{
  struct RecordingClock final : Clock {
    const test::FakeClock inner{test::test_now()};
    mutable std::vector<Millis> pauses;
    TimePoint now() const override { return inner.now(); }
    void sleep_for(Millis d) const override
    {
      inner.sleep_for(d);
      pauses.push_back(d);
    }
  };
  for (const bool timed : {false, true}) {
    INFO((timed ? "time-sized" : "fixed-size"));
    Classic db;
    RecordingClock clock;
    test::CapturedLog log;
    RunRequest request;
    request.tasks = resolve_tasks(test::default_config(), {"conversations"});
    request.options.batch_size = 3;
    // A target no batch of 3 rows comes near: each pause is a small share of the sleep.
    request.options.batch_time = timed ? milliseconds(10000) : milliseconds(0);
    request.options.sleep = milliseconds(400);
    auto store = db.open();
    REQUIRE(run_tasks(*store, Config{}, request, clock, log.logger()).ok());
    REQUIRE(clock.pauses.size() > 3);
    for (const Millis pause : clock.pauses) {
      if (timed) {
        CHECK(pause >= milliseconds(1));
        CHECK(pause < milliseconds(400));
      } else {
        CHECK(pause == milliseconds(400));
      }
    }
  }
}

TEST_CASE("quiet: longer write transactions only after seconds without another writer, and back at its "
          "first commit",
          "[purge][slow]")
{
  // Pauses that last 40 ms (real time: the purge measures quiet with a steady clock) until
  // `slow_until`, and another connection that commits a row during every pause in
  // [0, writes_until) and from `writes_from` on. (Writing throughout is a thread of its own.)
  struct SlowClock final : Clock {
    const test::FakeClock inner{test::test_now()};
    Sql* writer = nullptr;
    steady_clock::time_point start = steady_clock::now();
    milliseconds slow_until{0};
    milliseconds writes_until{0};
    milliseconds writes_from = milliseconds::max();
    mutable int writes = 0;
    TimePoint now() const override { return inner.now(); }
    void sleep_for(Millis d) const override
    {
      inner.sleep_for(d);
      const auto elapsed = duration_cast<milliseconds>(steady_clock::now() - start);
      if (elapsed < slow_until) {
        std::this_thread::sleep_for(milliseconds(40));
      }
      if (elapsed < writes_until || elapsed >= writes_from) {
        writer->exec("INSERT INTO messages VALUES (NULL, NULL, 'w', 'x', '2026-06-15 12:00:00', NULL)");
        ++writes;
      }
    }
  };
  for (const bool writing : {false, true}) {
    INFO((writing ? "another connection writes throughout"
                  : "another connection writes in the first second, "
                    "and after 7.5 s"));
    Classic db;
    const auto doomed =
      db.sql.integer("SELECT count(*) FROM conversations WHERE created_at < '" + db.cutoff(hours(24 * 30)) + "'");
    SlowClock clock;
    clock.writer = &db.sql;
    clock.slow_until = writing ? milliseconds(3000) : milliseconds(5000);
    clock.writes_until = writing ? milliseconds(0) : milliseconds(1000); // writing: a thread writes below
    clock.writes_from = writing ? milliseconds::max() : milliseconds(4500);
    test::CapturedLog log;
    RunRequest request;
    request.tasks = resolve_tasks(test::default_config(), {"conversations"});
    request.options.batch_size = 3; // some 400 batches: 40 ms apart, more than 5 s
    auto store = db.open();
    // Writing throughout: also while the purge counts and checks before its first batch,
    // which on a loaded machine can take longer than the quiet interval.
    std::jthread background;
    std::atomic<int> background_writes{0};
    if (writing) {
      background = std::jthread([path = db.path, &background_writes](std::stop_token stop) {
        test::Sql other(path);
        other.db().exec("PRAGMA busy_timeout = 5000");
        while (!stop.stop_requested()) {
          try {
            other.exec("INSERT INTO messages VALUES (NULL, NULL, 'w', 'x', '2026-06-15 12:00:00', NULL)");
            ++background_writes;
          } catch (const std::exception&) {
            // busy past the timeout: the next one tries again
          }
          std::this_thread::sleep_for(milliseconds(50));
        }
      });
    }
    const auto report = run_tasks(*store, Config{}, request, clock, log.logger());
    background = {};
    INFO(log.text());
    REQUIRE(report.ok());
    CHECK(deleted(report, "conversations", "conversations") == doomed);
    const std::string text = log.text();
    const auto quiet = text.find("no other connection has written for 2.0s: write transactions may last 1.0s");
    const auto back = text.find("another connection committed: write transactions go back to 50ms");
    REQUIRE(clock.writes + background_writes > 0);
    if (writing) {
      CHECK(quiet == std::string::npos);
    } else {
      CHECK(quiet != std::string::npos);
      CHECK(back != std::string::npos);
      CHECK(quiet < back);
    }
  }
}

TEST_CASE("archive then restore gives back the original database, row for row", "[purge][archive]")
{
  Classic db;
  // Every storage class, and text that is not UTF-8, among the rows that go.
  db.sql.exec("UPDATE messages SET content = X'00FF10' WHERE id = 2");
  db.sql.exec("UPDATE messages SET content = CAST(X'C328' AS TEXT) WHERE id = 3");
  db.sql.exec("UPDATE messages SET expires_at = 1.25 WHERE id = 4");
  db.sql.exec("UPDATE messages SET expires_at = 1781000000 WHERE id = 1492");
  const std::string original = dump(db.sql);
  test::TempDir archive_dir;
  std::vector<std::string> files;
  {
    auto store = db.open();
    test::FakeClock clock(test::test_now());
    test::CapturedLog log;
    RunRequest request;
    request.tasks = resolve_tasks(test::default_config(), {"all"});
    request.options.batch_size = 7;
    request.archive_dir = archive_dir.path();
    const auto report = run_tasks(*store, Config{}, request, clock, log.logger());
    REQUIRE(report.ok());
    std::int64_t archived = 0;
    for (const auto& file : report.archives) {
      files.push_back(file.path);
      archived += file.rows;
      struct stat st {};
      REQUIRE(::stat(file.path.c_str(), &st) == 0);
      CHECK((st.st_mode & 0777) == 0600);
    }
    std::int64_t deleted_rows = 0;
    for (const auto& task : report.tasks) {
      for (const auto& [table, rows] : task.deleted) {
        deleted_rows += rows;
      }
    }
    CHECK(archived == deleted_rows);
    CHECK(deleted_rows > 100);
  }
  REQUIRE(dump(db.sql) != original);
  test::CapturedLog log;
  // Given in the wrong order on purpose: restore puts parents back first.
  std::reverse(files.begin(), files.end());
  {
    auto store = open_store(parse_database_url(db.path),
                            OpenOptions{.mode = AccessMode::read_write, .enforce_foreign_keys = false});
    const auto report = restore_archives(*store, Config{}, files, false, log.logger());
    REQUIRE(report.files.size() == files.size());
    CHECK(report.files.front().file.table == "users");
  }
  CHECK(dump(db.sql) == original);
  // Restoring again finds every key there and changes nothing.
  {
    auto store = open_store(parse_database_url(db.path),
                            OpenOptions{.mode = AccessMode::read_write, .enforce_foreign_keys = false});
    const auto again = restore_archives(*store, Config{}, files, false, log.logger());
    for (const auto& done : again.files) {
      CHECK(done.restored == 0);
      CHECK(done.skipped == done.file.rows);
    }
  }
  CHECK(dump(db.sql) == original);
}

TEST_CASE("restore refuses what is not an archive, and an archive directory must be writable", "[archive]")
{
  Classic db;
  test::TempDir dir;
  const std::string not_archive = dir.file("notes.jsonl");
  {
    std::ofstream out(not_archive);
    out << "{\"id\": 1}\n";
  }
  auto store = db.open();
  test::CapturedLog log;
  CHECK_THROWS_AS(restore_archives(*store, Config{}, {not_archive}, false, log.logger()), DataError);
  CHECK_THROWS_AS(restore_archives(*store, Config{}, {dir.file("missing.jsonl")}, false, log.logger()), NotFoundError);
  const std::string before = test::file_bytes(db.path);
  test::FakeClock clock(test::test_now());
  RunRequest request;
  request.tasks = resolve_tasks(test::default_config(), {"all"});
  request.archive_dir = dir.file("no-such-dir");
  CHECK_THROWS_AS(run_tasks(*store, Config{}, request, clock, log.logger()), CantCreateError);
  CHECK(test::file_bytes(db.path) == before);
}

TEST_CASE("stats never fails on a bad time value: it counts it as unparseable", "[stats]")
{
  Classic db;
  auto store = db.open();
  const std::string since = test::sql_time(db.now - hours(24));
  const auto stat = [](const TaskResult& task, const std::string& key) {
    for (const auto& [name, value] : task.stats) {
      if (name == key) {
        return value;
      }
    }
    FAIL("no stat " << key);
    return std::int64_t{-1};
  };
  // Clean data: the recent counts match plain SQL, nothing unparseable.
  const std::int64_t recent = db.sql.integer("SELECT count(*) FROM messages WHERE created_at >= '" + since + "'");
  REQUIRE(recent > 0);
  auto report = run(*store, Config{}, {"stats"});
  REQUIRE(report.ok());
  CHECK(stat(report.tasks[0], "recent_messages_24h") == recent);
  CHECK(stat(report.tasks[0], "unparseable_times") == 0);

  // A row dated in 2099, one that is not a time, and one in another layout on the recent side.
  db.sql.exec("INSERT INTO messages VALUES (5001, 1, 'user', 'hi', '2099-01-01 00:00:00', NULL);"
              "INSERT INTO messages VALUES (5002, 1, 'user', 'hi', 'garbage', NULL);"
              "INSERT INTO messages VALUES (5003, 1, 'user', 'hi', '" +
              test::sql_time(db.now) + "Z', NULL);");
  test::CapturedLog log;
  test::FakeClock clock(db.now);
  RunRequest request;
  request.tasks = resolve_tasks(Config{}, {"stats"});
  report = run_tasks(*store, Config{}, request, clock, log.logger());
  REQUIRE(report.ok());
  CHECK(stat(report.tasks[0], "recent_messages_24h") == recent);
  CHECK(stat(report.tasks[0], "unparseable_times") == 3);
  CHECK_THAT(log.text(), Catch::Contains("warning: stats: 3 values that are no plausible time, counted as unparseable; "
                                         "the first: tasks.messages: column 'messages.created_at' holds"));
}
