// One libpq connection (private to the PostgreSQL backend): opening it from a URL, running a
// statement with values passed as text, reading rows as Values by their column types, and
// mapping SQLSTATEs to the exit statuses of SPEC §3.
#pragma once

#include "housekeep/store.hpp"

#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace housekeep {

/// Which server speaks the protocol, from `version()`: they differ in what they accept.
enum class PgEngine { postgresql, cockroachdb, yugabytedb };

/// What a statement did.
struct PgOutcome {
  std::int64_t changed = 0; // rows inserted, updated or deleted
};

class PgConnection {
public:
  /// Connects as the URL says (libpq reads the PG* variables and ~/.pgpass too), named
  /// `housekeep` in pg_stat_activity, in UTC; read-only transactions with AccessMode::read_only.
  PgConnection(const DatabaseUrl& url, const OpenOptions& options);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  /// Runs a statement; throws housekeep's error for its SQLSTATE, naming `doing`.
  PgOutcome run(const std::string& sql, const std::vector<Value>& binds, std::string_view doing);
  /// Runs statements without values, several separated by ';', in one round trip (the
  /// simple protocol); throws as run() does.
  void run_script(const std::string& sql, std::string_view doing);
  /// Runs a query and hands `each` its rows.
  void each_row(const std::string& sql, const std::vector<Value>& binds, const RowVisitor& each,
                std::string_view doing);
  /// Runs `COPY ... FROM STDIN` (text format): `fill` appends the next rows to its buffer and
  /// returns false after the last. Returns how many rows went in.
  std::int64_t copy_in(const std::string& sql, const std::function<bool(std::string& buffer)>& fill,
                       std::string_view doing);
  /// Rolls back the open transaction, if any; never throws.
  void rollback_quietly() noexcept;
  /// The database's name.
  std::string database() const;
  /// The server's version as a number (150004 for 15.4).
  int server_version() const;
  /// The server's engine, read from version() when connecting.
  PgEngine engine() const { return m_engine; }
  /// The engine and version as version() says it ("PostgreSQL 15.4 on x86_64-pc-linux-gnu, ...").
  const std::string& version_text() const { return m_version; }
  /// The planner settings housekeep's statements want ("jit = off"): set for the session
  /// when connecting, and by each write transaction for itself through a pooler, where
  /// session settings do not last.
  const std::vector<std::string>& planner_settings() const { return m_planner; }
  /// The connection's parameters as libpq resolved them (from the URL, the PG* variables),
  /// as one conninfo string for another libpq program (pg_dump), without the password.
  std::string conninfo() const;
  /// The password the connection was made with (from the URL, PGPASSWORD or ~/.pgpass), or
  /// empty: for another libpq program's environment, never its command line.
  std::string password() const;
  /// True once the connection is gone.
  bool lost() const;
  /// True when a pooler (PgBouncer) stands between: session settings do not last beyond a
  /// transaction there, so the backend sets what it needs per transaction.
  bool pooled() const { return m_pooled; }

private:
  std::string m_label;                // the URL with any password masked
  std::vector<std::string> m_secrets; // what the mask hides, kept out of libpq's messages
  PGconn* m_conn = nullptr;
  bool m_pooled = false;
  PgEngine m_engine = PgEngine::postgresql;
  std::string m_version;
  std::vector<std::string> m_planner;

  std::vector<std::string> choose_planner_settings();

  PGresult* exec(const std::string& sql, const std::vector<Value>& binds, std::string_view doing);
  [[noreturn]] void fail(PGresult* result, std::string_view doing);
};

/// The engine version() names: CockroachDB and YugabyteDB say who they are there.
PgEngine engine_of_version(std::string_view version);

/// A value as PostgreSQL writes it in text for the column type `type` (an OID), read back.
Value pg_value(const char* text, int length, Oid type);

} // namespace housekeep
