#include "support/temp_db.hpp"

#include <date/date.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace housekeep::test {

TempDir::TempDir()
{
  std::string pattern = (std::filesystem::temp_directory_path() / "housekeep-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  m_path = pattern;
}

TempDir::~TempDir()
{
  std::error_code ignored;
  std::filesystem::remove_all(m_path, ignored);
}

Sql::Sql(const std::string& path) : m_db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE) {}

void Sql::exec(const std::string& sql)
{
  m_db.exec(sql);
}

std::int64_t Sql::integer(const std::string& sql)
{
  return m_db.execAndGet(sql).getInt64();
}

std::set<std::int64_t> Sql::ids(const std::string& sql)
{
  std::set<std::int64_t> out;
  SQLite::Statement statement(m_db, sql);
  while (statement.executeStep()) {
    out.insert(statement.getColumn(0).getInt64());
  }
  return out;
}

void create_classic_schema(Sql& sql)
{
  sql.exec(R"sql(
    CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT, email TEXT,
                        is_active INTEGER NOT NULL, date_joined TEXT NOT NULL);
    CREATE TABLE conversations (id INTEGER PRIMARY KEY,
                                user_id INTEGER NOT NULL REFERENCES users (id),
                                title TEXT, created_at TEXT NOT NULL);
    CREATE TABLE messages (id INTEGER PRIMARY KEY,
                           conversation_id INTEGER REFERENCES conversations (id),
                           role TEXT, content TEXT, created_at TEXT NOT NULL, expires_at TEXT);
    CREATE INDEX conversations_created_at ON conversations (created_at);
    CREATE INDEX conversations_user_id ON conversations (user_id);
    CREATE INDEX messages_conversation_id ON messages (conversation_id);
    CREATE INDEX users_date_joined ON users (date_joined);
  )sql");
}

std::string sql_time(TimePoint t)
{
  return date::format("%F %T", std::chrono::floor<std::chrono::seconds>(t));
}

CapturedLog::CapturedLog(LogLevel level) : m_file(std::tmpfile()), m_logger(level, LogFormat::text, false, m_file) {}

CapturedLog::~CapturedLog()
{
  std::fclose(m_file);
}

std::string CapturedLog::text() const
{
  std::fflush(m_file);
  std::rewind(m_file);
  std::string out;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, m_file)) > 0) {
    out.append(buffer, n);
  }
  return out;
}

TimePoint test_now()
{
  return TimePoint{date::sys_days{date::year{2026} / 6 / 15}} + std::chrono::hours(12);
}

std::string file_bytes(const std::string& path)
{
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

JobConfig job(std::string name, std::string task, std::string schedule, std::string zone)
{
  JobConfig j;
  j.name = std::move(name);
  j.task = std::move(task);
  j.schedule = std::move(schedule);
  j.timezone = std::move(zone);
  return j;
}

const Config& default_config()
{
  static const Config config;
  return config;
}

} // namespace housekeep::test
