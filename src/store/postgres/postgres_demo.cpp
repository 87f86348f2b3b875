// The demo as tables of an existing PostgreSQL database: created, filled with COPY, indexed
// and analyzed in one transaction, so that they appear whole or not at all. The foreign key
// of messages is added NOT VALID, as an application adds one over legacy rows: the demo's
// orphans include messages naming conversations that are gone, and the key holds for every
// change from now on (deleting a conversation checks its messages, as on SQLite).
#include "housekeep/demo.hpp"
#include "housekeep/error.hpp"
#include "store/postgres/pg.hpp"
#include "store/postgres/postgres_backend.hpp"

#include <fmt/format.h>

namespace housekeep {

namespace {

constexpr std::string_view k_tables = R"sql(
CREATE TABLE users (
  id BIGINT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  email TEXT NOT NULL,
  is_active BOOLEAN NOT NULL DEFAULT FALSE,
  date_joined TIMESTAMPTZ NOT NULL
);
CREATE TABLE conversations (
  id BIGINT PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users (id),
  title TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE messages (
  id BIGINT PRIMARY KEY,
  conversation_id BIGINT NULL,
  role TEXT NOT NULL,
  content TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  expires_at TIMESTAMPTZ NULL
)
)sql";

constexpr std::string_view k_foreign_key = R"sql(
ALTER TABLE messages ADD CONSTRAINT messages_conversation_id_fkey
  FOREIGN KEY (conversation_id) REFERENCES conversations (id) NOT VALID
)sql";

// Runs each of the ';'-separated statements (one statement per call: values are bound).
void run_each(PgConnection& connection, std::string_view statements, std::string_view doing)
{
  while (!statements.empty()) {
    const auto end = statements.find(';');
    const std::string_view statement = statements.substr(0, end);
    if (statement.find_first_not_of(" \n") != std::string_view::npos) {
      connection.run(std::string(statement), {}, doing);
    }
    statements = end == std::string_view::npos ? std::string_view{} : statements.substr(end + 1);
  }
}

// Rows per COPY message.
constexpr std::size_t k_rows_per_send = 10000;

// Sends `count` rows, `row(i, buffer)` appending row i in COPY's text format.
template <typename RowFn>
void copy_rows(PgConnection& connection, const std::string& sql, std::size_t count, RowFn row, std::string_view doing)
{
  std::size_t next = 0;
  connection.copy_in(
    sql,
    [&](std::string& buffer) {
      for (std::size_t end = std::min(count, next + k_rows_per_send); next < end; ++next) {
        row(next, buffer);
      }
      return next < count;
    },
    doing);
}

} // namespace

void write_postgres_demo(const DatabaseUrl& url, const DemoData& data, bool force)
{
  if (force) {
    throw UsageError(
      fmt::format("demo --force replaces a file, never tables of a server's database ('{}')", url.redacted()),
      "drop the demo's tables yourself (DROP TABLE messages, conversations, users), or use an empty "
      "database");
  }
  PgConnection connection(url, OpenOptions{});
  for (const char* table : {"users", "conversations", "messages"}) {
    bool there = false;
    connection.each_row(
      "SELECT to_regclass($1) IS NOT NULL", {std::string(table)},
      [&](const std::vector<std::string>&, const std::vector<Value>& row) { there = std::get<bool>(row.at(0)); },
      "cannot read the schema");
    if (there) {
      throw CantCreateError(
        fmt::format("cannot create the demo in '{}': table '{}' already exists", url.redacted(), table),
        "the demo writes only into a database without its tables (createdb housekeep_demo)");
    }
  }
  const std::string doing = "cannot create the demo";
  connection.run("BEGIN", {}, doing);
  try {
    run_each(connection, k_tables, doing);
    copy_rows(
      connection, "COPY users (id, username, email, is_active, date_joined) FROM STDIN", data.users.size(),
      [&](std::size_t i, std::string& out) {
        const auto& u = data.users[i];
        fmt::format_to(std::back_inserter(out), "{0}\tuser{0}\tuser{0}@example.com\t{1}\t{2}\n", u.id,
                       u.active ? 't' : 'f', demo_timestamp(u.joined));
      },
      doing);
    copy_rows(
      connection, "COPY conversations (id, user_id, title, created_at) FROM STDIN", data.conversations.size(),
      [&](std::size_t i, std::string& out) {
        const auto& c = data.conversations[i];
        fmt::format_to(std::back_inserter(out), "{0}\t{1}\tConversation {0}\t{2}\n", c.id, c.user,
                       demo_timestamp(c.created));
      },
      doing);
    copy_rows(
      connection, "COPY messages (id, conversation_id, role, content, created_at, expires_at) FROM STDIN",
      data.messages.size(),
      [&](std::size_t i, std::string& out) {
        const auto& m = data.messages[i];
        const std::int64_t id = m.id;
        fmt::format_to(std::back_inserter(out), "{}\t{}\t{}\tmessage {}\t{}\t{}\n", id,
                       m.conversation == 0 ? std::string("\\N") : std::to_string(m.conversation),
                       id % 2 == 0 ? "assistant" : "user", id, demo_timestamp(m.created),
                       m.expires ? demo_timestamp(m.created + std::chrono::hours(48)) : std::string("\\N"));
      },
      doing);
    run_each(connection, demo_indexes(), doing);
    run_each(connection, k_foreign_key, doing);
    connection.run("COMMIT", {}, doing);
  } catch (...) {
    connection.rollback_quietly();
    throw;
  }
  // Fresh statistics for the planner (outside the transaction: cheap, and not required).
  connection.run("ANALYZE users, conversations, messages", {}, "cannot analyze the demo's tables");
}

} // namespace housekeep
