// The backends the store contract (test_contract.cpp) runs against, each a fixture that
// makes a fresh empty database, runs plain SQL on it through its own connection (never
// housekeep's), and opens housekeep's Store on it.
#pragma once

#include "housekeep/store.hpp"

#include "support/temp_db.hpp"

#include <cstdint>
#include <memory>
#include <set>
#include <string>

namespace housekeep::test {

/// A fresh SQLite file in a temporary directory.
class SqliteDatabase {
public:
  static constexpr const char* name = "sqlite";
  /// Column types of the engine's schema for a flag and a time.
  static constexpr const char* boolean_type = "INTEGER";
  static constexpr const char* time_type = "TEXT";
  /// The literal of a flag's value.
  static std::string boolean(bool value) { return value ? "1" : "0"; }

  SqliteDatabase() : m_path(m_dir.file("contract.db")), m_sql(m_path) {}

  void exec(const std::string& sql) { m_sql.exec(sql); }
  std::int64_t integer(const std::string& sql) { return m_sql.integer(sql); }
  std::set<std::int64_t> ids(const std::string& sql) { return m_sql.ids(sql); }
  bool table_exists(const std::string& table)
  {
    return m_sql.integer("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '" + table + "'") == 1;
  }
  std::unique_ptr<Store> open(AccessMode mode = AccessMode::read_write)
  {
    return open_store(parse_database_url(m_path), OpenOptions{mode, std::chrono::milliseconds(200)});
  }

private:
  TempDir m_dir;
  std::string m_path;
  Sql m_sql;
};

} // namespace housekeep::test

/// Every backend the contract runs against.
#define HOUSEKEEP_STORE_BACKENDS housekeep::test::SqliteDatabase
