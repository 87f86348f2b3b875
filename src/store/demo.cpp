#include "housekeep/demo.hpp"

#include "housekeep/error.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <date/date.h>
#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <vector>

namespace housekeep {

namespace {

constexpr std::string_view k_schema = R"sql(
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  email TEXT NOT NULL,
  is_active INTEGER NOT NULL DEFAULT 0,
  date_joined TEXT NOT NULL
);
CREATE TABLE conversations (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id),
  title TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE messages (
  id INTEGER PRIMARY KEY,
  conversation_id INTEGER NULL REFERENCES conversations (id),
  role TEXT NOT NULL,
  content TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NULL
);
CREATE INDEX users_date_joined ON users (date_joined);
CREATE INDEX conversations_user_id ON conversations (user_id);
CREATE INDEX conversations_created_at ON conversations (created_at);
CREATE INDEX messages_conversation_id ON messages (conversation_id);
CREATE INDEX messages_created_at ON messages (created_at);
CREATE INDEX messages_expires_at ON messages (expires_at);
)sql";

std::string timestamp(TimePoint t)
{
  return date::format("%F %T", std::chrono::floor<std::chrono::seconds>(t));
}

bool exists(const std::string& path)
{
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

} // namespace

DemoSummary create_demo_database(const DemoOptions& options, TimePoint now)
{
  if (exists(options.path) && !options.force) {
    throw CantCreateError(fmt::format("cannot create demo database '{}': the file already exists", options.path),
                          "pass --force to replace it, or choose another file with --db");
  }
  const std::string temporary = fmt::format("{}.tmp-{}", options.path, ::getpid());
  ::unlink(temporary.c_str());

  DemoSummary summary;
  summary.messages = options.messages;
  summary.users = std::max<std::int64_t>(10, options.messages / 50);
  summary.conversations = std::max<std::int64_t>(20, options.messages / 10);

  std::mt19937_64 random(20261124);
  auto uniform = [&](std::int64_t low, std::int64_t high) {
    return std::uniform_int_distribution<std::int64_t>(low, high)(random);
  };
  const std::int64_t span_seconds = 90LL * 24 * 3600;
  auto age = [&]() { return now - std::chrono::seconds(uniform(0, span_seconds)); };

  try {
    SQLite::Database db(temporary, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("PRAGMA journal_mode = OFF");
    db.exec("PRAGMA synchronous = OFF");
    db.exec(std::string(k_schema));
    SQLite::Transaction transaction(db);

    std::vector<TimePoint> joined(static_cast<std::size_t>(summary.users));
    for (auto& when : joined) {
      when = age();
    }
    std::sort(joined.begin(), joined.end());
    SQLite::Statement user(db, "INSERT INTO users (id, username, email, is_active, date_joined) "
                               "VALUES (?, ?, ?, ?, ?)");
    for (std::int64_t id = 1; id <= summary.users; ++id) {
      const bool active = uniform(0, 99) >= 15;
      summary.inactive_users += active ? 0 : 1;
      user.bind(1, static_cast<int64_t>(id));
      user.bind(2, fmt::format("user{}", id));
      user.bind(3, fmt::format("user{}@example.com", id));
      user.bind(4, active ? 1 : 0);
      user.bind(5, timestamp(joined[static_cast<std::size_t>(id - 1)]));
      user.exec();
      user.reset();
    }

    // Ids follow creation time, as they do in a live application's tables: the oldest rows
    // have the lowest ids, and a conversation's messages come after it.
    std::vector<TimePoint> started(static_cast<std::size_t>(summary.conversations));
    for (auto& created : started) {
      created = age();
    }
    std::sort(started.begin(), started.end());
    SQLite::Statement conversation(db,
                                   "INSERT INTO conversations (id, user_id, title, created_at) VALUES (?, ?, ?, ?)");
    for (std::int64_t id = 1; id <= summary.conversations; ++id) {
      conversation.bind(1, static_cast<int64_t>(id));
      conversation.bind(2, static_cast<int64_t>(uniform(1, summary.users)));
      conversation.bind(3, fmt::format("Conversation {}", id));
      conversation.bind(4, timestamp(started[static_cast<std::size_t>(id - 1)]));
      conversation.exec();
      conversation.reset();
    }

    struct Message {
      TimePoint created;
      std::int64_t parent; // 0: NULL; beyond the last conversation: a dangling reference
    };
    std::vector<Message> messages(static_cast<std::size_t>(summary.messages));
    for (auto& m : messages) {
      const std::int64_t kind = uniform(0, 99);
      if (kind < 3) {
        // Orphans as left by an application that deleted conversations without cascading
        // (a dangling reference) or never set one (NULL).
        ++summary.orphan_messages;
        m.parent = kind == 0 ? 0 : summary.conversations + uniform(1, 1000);
        m.created = age();
      } else {
        m.parent = uniform(1, summary.conversations);
        m.created =
          std::min(now, started[static_cast<std::size_t>(m.parent - 1)] + std::chrono::seconds(uniform(0, 3 * 3600)));
      }
    }
    std::stable_sort(messages.begin(), messages.end(),
                     [](const Message& a, const Message& b) { return a.created < b.created; });

    SQLite::Statement message(db, "INSERT INTO messages (id, conversation_id, role, content, "
                                  "created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)");
    std::int64_t id = 0;
    for (const auto& m : messages) {
      ++id;
      message.bind(1, static_cast<int64_t>(id));
      if (m.parent == 0) {
        message.bind(2);
      } else {
        message.bind(2, static_cast<int64_t>(m.parent));
      }
      message.bind(3, id % 2 == 0 ? "assistant" : "user");
      message.bind(4, fmt::format("message {}", id));
      message.bind(5, timestamp(m.created));
      if (uniform(0, 9) == 0) {
        message.bind(6);
      } else {
        message.bind(6, timestamp(m.created + std::chrono::hours(48)));
      }
      message.exec();
      message.reset();
    }
    transaction.commit();
    db.exec("PRAGMA journal_mode = DELETE");
  } catch (const SQLite::Exception& e) {
    ::unlink(temporary.c_str());
    throw CantCreateError(fmt::format("cannot create demo database '{}': {}", options.path, e.what()),
                          "check that the directory exists and is writable");
  }
  if (::rename(temporary.c_str(), options.path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temporary.c_str());
    throw CantCreateError(fmt::format("cannot create demo database '{}': {}", options.path, std::strerror(err)));
  }
  for (const char* suffix : {"-journal", "-wal", "-shm"}) {
    ::unlink((options.path + suffix).c_str());
  }
  return summary;
}

} // namespace housekeep
