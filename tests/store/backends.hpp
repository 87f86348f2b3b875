// The backends the store contract (test_contract.cpp) runs against, each a fixture that
// makes a fresh empty database, runs plain SQL on it through its own connection (never
// housekeep's), and opens housekeep's Store on it.
#pragma once

#include "housekeep/store.hpp"

#include "support/temp_db.hpp"

#include <libpq-fe.h>

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
  /// A file engine needs no server.
  static bool available() { return true; }

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

/// A fresh database on the PostgreSQL server the test script started (its socket directory
/// and port in HOUSEKEEP_TEST_PG_HOST and HOUSEKEEP_TEST_PG_PORT, superuser `postgres`),
/// dropped afterwards. Plain SQL goes through libpq directly.
class PostgresDatabase {
public:
  static constexpr const char* name = "postgresql";
  static constexpr const char* boolean_type = "BOOLEAN";
  static constexpr const char* time_type = "TIMESTAMPTZ";
  static std::string boolean(bool value) { return value ? "TRUE" : "FALSE"; }
  /// Whether a test server was given; without one the cases say so and do nothing.
  static bool available();

  PostgresDatabase();
  ~PostgresDatabase();
  PostgresDatabase(const PostgresDatabase&) = delete;
  PostgresDatabase& operator=(const PostgresDatabase&) = delete;

  void exec(const std::string& sql);
  std::int64_t integer(const std::string& sql);
  std::set<std::int64_t> ids(const std::string& sql);
  bool table_exists(const std::string& table);
  std::unique_ptr<Store> open(AccessMode mode = AccessMode::read_write);
  /// The database's URL.
  const std::string& url() const { return m_url; }

private:
  std::string m_name;
  std::string m_url;
  PGconn* m_conn = nullptr;
};

} // namespace housekeep::test

/// Every backend the contract runs against.
#define HOUSEKEEP_STORE_BACKENDS housekeep::test::SqliteDatabase, housekeep::test::PostgresDatabase

/// Starts a contract case on `db`, or ends it (with a warning) when its server is absent.
#define HOUSEKEEP_CONTRACT_DB(db)                                                                                      \
  if (!TestType::available()) {                                                                                        \
    WARN("no test server for " << TestType::name << ": case not run");                                                 \
    return;                                                                                                            \
  }                                                                                                                    \
  TestType db
