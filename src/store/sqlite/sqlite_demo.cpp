// The demo as a SQLite file: written to a temporary file beside the target with the journal
// off (nothing to recover: an interrupted demo is simply not renamed into place), then renamed.
#include "housekeep/demo.hpp"
#include "housekeep/error.hpp"
#include "store/sqlite/sqlite_backend.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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
)sql";

bool exists(const std::string& path)
{
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

void write_rows(SQLite::Database& db, const DemoData& data)
{
  SQLite::Statement user(db, "INSERT INTO users (id, username, email, is_active, date_joined) VALUES (?, ?, ?, ?, ?)");
  for (const auto& u : data.users) {
    user.bind(1, static_cast<int64_t>(u.id));
    user.bind(2, fmt::format("user{}", u.id));
    user.bind(3, fmt::format("user{}@example.com", u.id));
    user.bind(4, u.active ? 1 : 0);
    user.bind(5, demo_timestamp(u.joined));
    user.exec();
    user.reset();
  }
  SQLite::Statement conversation(db, "INSERT INTO conversations (id, user_id, title, created_at) VALUES (?, ?, ?, ?)");
  for (const auto& c : data.conversations) {
    conversation.bind(1, static_cast<int64_t>(c.id));
    conversation.bind(2, static_cast<int64_t>(c.user));
    conversation.bind(3, fmt::format("Conversation {}", c.id));
    conversation.bind(4, demo_timestamp(c.created));
    conversation.exec();
    conversation.reset();
  }
  SQLite::Statement message(db, "INSERT INTO messages (id, conversation_id, role, content, created_at, expires_at) "
                                "VALUES (?, ?, ?, ?, ?, ?)");
  for (const auto& m : data.messages) {
    message.bind(1, static_cast<int64_t>(m.id));
    if (m.conversation == 0) {
      message.bind(2);
    } else {
      message.bind(2, static_cast<int64_t>(m.conversation));
    }
    message.bind(3, m.id % 2 == 0 ? "assistant" : "user");
    message.bind(4, fmt::format("message {}", m.id));
    message.bind(5, demo_timestamp(m.created));
    if (m.expires) {
      message.bind(6, demo_timestamp(m.created + std::chrono::hours(48)));
    } else {
      message.bind(6);
    }
    message.exec();
    message.reset();
  }
}

} // namespace

void write_sqlite_demo(const DatabaseUrl& url, const DemoData& data, bool force)
{
  const std::string& path = url.path;
  if (exists(path) && !force) {
    throw CantCreateError(fmt::format("cannot create demo database '{}': the file already exists", path),
                          "pass --force to replace it, or choose another file with --db");
  }
  const std::string temporary = fmt::format("{}.tmp-{}", path, ::getpid());
  ::unlink(temporary.c_str());
  try {
    SQLite::Database db(temporary, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("PRAGMA journal_mode = OFF");
    db.exec("PRAGMA synchronous = OFF");
    db.exec(std::string(k_schema));
    db.exec(std::string(demo_indexes()));
    SQLite::Transaction transaction(db);
    write_rows(db, data);
    transaction.commit();
    db.exec("PRAGMA journal_mode = DELETE");
  } catch (const SQLite::Exception& e) {
    ::unlink(temporary.c_str());
    throw CantCreateError(fmt::format("cannot create demo database '{}': {}", path, e.what()),
                          "check that the directory exists and is writable");
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temporary.c_str());
    throw CantCreateError(fmt::format("cannot create demo database '{}': {}", path, std::strerror(err)));
  }
  for (const char* suffix : {"-journal", "-wal", "-shm"}) {
    ::unlink((path + suffix).c_str());
  }
}

} // namespace housekeep
