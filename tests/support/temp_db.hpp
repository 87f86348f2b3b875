// Test support: a temporary directory, SQLite files built with plain SQL (independent of
// housekeep's own code paths), and a silent logger and fake clock for the library.
#pragma once

#include "housekeep/clock.hpp"
#include "housekeep/config.hpp"
#include "housekeep/log.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdint>
#include <cstdio>
#include <set>
#include <string>

namespace housekeep::test {

/// A fresh directory removed (with its contents) on destruction.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return m_path; }
  std::string file(const std::string& name) const { return m_path + "/" + name; }

private:
  std::string m_path;
};

/// Runs SQL on a database file through its own connection, as an independent observer.
class Sql {
public:
  explicit Sql(const std::string& path);
  void exec(const std::string& sql);
  std::int64_t integer(const std::string& sql);
  /// The integers of the first column of every row.
  std::set<std::int64_t> ids(const std::string& sql);
  SQLite::Database& db() { return m_db; }

private:
  SQLite::Database m_db;
};

/// The built-in configuration, for resolve_tasks() in tests.
const Config& default_config();

/// The classic schema of SPEC §5 with declared foreign keys, empty.
void create_classic_schema(Sql& sql);

/// "YYYY-MM-DD HH:MM:SS" for `t`.
std::string sql_time(TimePoint t);

/// A clock that stands still unless told to move; sleeping advances it.
class FakeClock final : public Clock {
public:
  explicit FakeClock(TimePoint start) : m_now(start) {}
  TimePoint now() const override { return m_now; }
  void sleep_for(std::chrono::milliseconds d) const override { m_now += d; }
  void set(TimePoint t) const { m_now = t; }

private:
  mutable TimePoint m_now;
};

/// A logger writing to a temporary file, readable with text().
class CapturedLog {
public:
  explicit CapturedLog(LogLevel level = LogLevel::debug);
  ~CapturedLog();
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;
  const Logger& logger() const { return m_logger; }
  std::string text() const;

private:
  std::FILE* m_file;
  Logger m_logger;
};

/// A job for the configuration; `zone` empty means defaults.timezone.
JobConfig job(std::string name, std::string task, std::string schedule, std::string zone = "");

/// The instant tests treat as now: 2026-06-15T12:00:00Z.
TimePoint test_now();

/// SHA-free byte comparison helper: the whole file's bytes.
std::string file_bytes(const std::string& path);

} // namespace housekeep::test
