#include "store/sqlite_store.hpp"

#include "housekeep/error.hpp"
#include "store/file_lock.hpp"
#include "store/sql/compiler.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>

namespace housekeep {

namespace {

// Maps a SQLite failure to the exit statuses of SPEC §3.
// A non-empty journal beside the database: a rollback journal a crashed writer left (SQLite
// must roll it back before anyone reads the file), or the write-ahead log of a database in
// WAL mode (whose -shm index every reader writes). Empty when there is none.
std::string journal_beside(const std::string& path)
{
  for (const char* suffix : {"-journal", "-wal"}) {
    struct stat info {};
    const std::string journal = path + suffix;
    if (::stat(journal.c_str(), &info) == 0 && info.st_size > 0) {
      return journal;
    }
  }
  return {};
}

// How soon a writer that has waited `waited` for the lock tries again under SQLite's default
// busy handler (sqlite3_busy_timeout, what most applications set): it sleeps 1, 2, 5, 10, 15,
// 20, 25, 25, 25, 50 and 50 ms, then 100 ms at a time. Plus a millisecond for the scheduler.
std::chrono::milliseconds busy_handler_gap(std::chrono::milliseconds waited)
{
  static constexpr std::array<std::int64_t, 12> sleeps{1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};
  std::int64_t slept = 0;
  for (const std::int64_t next : sleeps) {
    if (waited.count() < slept + next) {
      return std::chrono::milliseconds{next + 1};
    }
    slept += next;
  }
  return std::chrono::milliseconds{sleeps.back() + 1};
}

[[noreturn]] void rethrow(const SQLite::Exception& e, const std::string& path, std::string_view doing)
{
  const int primary = e.getErrorCode() & 0xff;
  const std::string what = fmt::format("database '{}': {}: {}", path, doing, e.what());
  if (primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY) {
    // The file is there (open checks it first): what this user cannot open or write is the
    // journal beside it. "Not found" would send the operator looking for the wrong thing.
    if (const std::string journal = journal_beside(path); !journal.empty()) {
      const bool wal = journal.ends_with("-wal");
      throw PermissionError(
        fmt::format("database '{}': {}: {} '{}' cannot be {} by this user ({})", path, doing,
                    wal ? "its write-ahead log" : "the journal", journal,
                    wal ? "opened (with its -shm index)" : "rolled back, left by an interrupted write", e.what()),
        wal ? "readers of a WAL database need write access to its -wal and -shm files and their directory"
            : "run housekeep once as the database's owner (or open it with sqlite3), which rolls it back; the "
              "journal and its directory must be writable");
    }
  }
  switch (primary) {
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    throw TempFailError(what, "another process holds a write lock; retry later or raise "
                              "database.busy_timeout");
  case SQLITE_NOTADB: throw DataError(fmt::format("database '{}' is not a valid SQLite database ({})", path, e.what()));
  case SQLITE_CORRUPT:
    throw DataError(fmt::format("database '{}' is damaged: {}: {}", path, doing, e.what()),
                    "restore it from a backup or repair it (sqlite3's .recover)");
  case SQLITE_READONLY:
  case SQLITE_FULL:
  case SQLITE_IOERR: throw IoError(what);
  case SQLITE_PERM:
  case SQLITE_AUTH: throw PermissionError(what);
  case SQLITE_CANTOPEN: throw NotFoundError(what);
  case SQLITE_ERROR:
  case SQLITE_MISMATCH: // a value of the wrong type for its column (an integer beyond 64 bits)
  case SQLITE_CONSTRAINT: throw DataError(what);
  default: throw TaskError(what);
  }
}

// SQLite's SQL: "?" placeholders, booleans stored as integers (Django's BOOL, 0 and 1).
std::string question_mark(std::size_t)
{
  return "?";
}

const Dialect k_sqlite_dialect{&question_mark, "{} = 0", "({0} IS NOT NULL AND {0} <> 0)", "1", "0"};

// A statement for SQLite's SQL.
class SqlBuilder : public SqlCompiler {
public:
  SqlBuilder() : SqlCompiler(k_sqlite_dialect) {}
};

// Binds `values` to the statement's placeholders, in order.
void bind_values(SQLite::Statement& statement, const std::vector<Value>& values)
{
  int index = 1;
  for (const auto& value : values) {
    std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          statement.bind(index);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          statement.bind(index, static_cast<int64_t>(v));
        } else if constexpr (std::is_same_v<T, Blob>) {
          statement.bind(index, static_cast<const void*>(v.bytes.data()), static_cast<int>(v.bytes.size()));
        } else {
          statement.bind(index, v);
        }
      },
      value);
    ++index;
  }
}

class SqliteTransaction final : public Transaction {
public:
  SqliteTransaction(SQLite::Database& db, std::string path) : m_db(db), m_path(std::move(path))
  {
    try {
      m_db.exec("BEGIN IMMEDIATE");
    } catch (const SQLite::Exception& e) {
      rethrow(e, m_path, "cannot start a write transaction");
    }
  }

  ~SqliteTransaction() override
  {
    if (!m_done) {
      // Rolling back cannot usefully fail; if it does, SQLite rolls back on close anyway.
      sqlite3_exec(m_db.getHandle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }

  SqliteTransaction(const SqliteTransaction&) = delete;
  SqliteTransaction& operator=(const SqliteTransaction&) = delete;

  void commit() override
  {
    try {
      m_db.exec("COMMIT");
      m_done = true;
    } catch (const SQLite::Exception& e) {
      rethrow(e, m_path, "cannot commit");
    }
  }

private:
  SQLite::Database& m_db;
  std::string m_path;
  bool m_done = false;
};

Value read_value(const SQLite::Column& column)
{
  switch (column.getType()) {
  case SQLITE_INTEGER: return Value{static_cast<std::int64_t>(column.getInt64())};
  case SQLITE_FLOAT: return Value{column.getDouble()};
  case SQLITE_NULL: return Value{};
  case SQLITE_BLOB: {
    const auto* data = static_cast<const char*>(column.getBlob());
    return Value{Blob{std::string(data, static_cast<std::size_t>(column.getBytes()))}};
  }
  default: return Value{column.getString()};
  }
}

// The page cache of a connection, in KiB.
constexpr int k_page_cache_kib = 16 * 1024;

class SqliteStore final : public Store {
public:
  SqliteStore(const DatabaseUrl& url, const OpenOptions& options)
      : m_url(url), m_path(url.path), m_db(open(url, options))
  {
    try {
      // Reading the schema is the first access that fails on a file that is not a database.
      m_db.execAndGet("SELECT count(*) FROM sqlite_master");
      // Per connection only: enforces declared foreign keys; never changes the file.
      m_db.exec(options.enforce_foreign_keys ? "PRAGMA foreign_keys = ON" : "PRAGMA foreign_keys = OFF");
      // Per connection only: a page cache large enough to keep the indexes a purge walks
      // between its batches (SQLite's default is 2 MiB), small enough to keep memory flat.
      m_db.exec(fmt::format("PRAGMA cache_size = -{}", k_page_cache_kib));
    } catch (const SQLite::Exception& e) {
      rethrow(e, m_path, "cannot read the schema");
    }
    if (::stat(m_path.c_str(), &m_identity) != 0) {
      m_identity = {};
    }
  }

  std::string describe() const override { return m_url.redacted(); }

  bool replaced() const override
  {
    struct stat now {};
    return ::stat(m_path.c_str(), &now) != 0 || now.st_dev != m_identity.st_dev || now.st_ino != m_identity.st_ino;
  }

  bool read_only() const override { return sqlite3_db_readonly(m_db.getHandle(), "main") == 1; }

  StoreTraits traits() const override { return StoreTraits{&busy_handler_gap}; }

  std::optional<std::vector<std::string>> columns(std::string_view table) override
  {
    std::string pragma;
    const auto dot = table.find('.');
    if (dot == std::string_view::npos) {
      pragma = fmt::format("PRAGMA table_info({})", quote(table));
    } else {
      pragma = fmt::format("PRAGMA {}.table_info({})", quote(table.substr(0, dot)), quote(table.substr(dot + 1)));
    }
    std::vector<std::string> names;
    try {
      SQLite::Statement statement(m_db, pragma);
      while (statement.executeStep()) {
        names.push_back(statement.getColumn(1).getString());
      }
    } catch (const SQLite::Exception& e) {
      rethrow(e, m_path, fmt::format("cannot read the columns of '{}'", table));
    }
    if (names.empty()) {
      return std::nullopt;
    }
    return names;
  }

  std::vector<ForeignKey> foreign_keys() override
  {
    std::vector<ForeignKey> found;
    try {
      SQLite::Statement tables(m_db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
      while (tables.executeStep()) {
        const std::string child = tables.getColumn(0).getString();
        SQLite::Statement keys(m_db, "SELECT \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?)");
        keys.bind(1, child);
        while (keys.executeStep()) {
          ForeignKey key{child, keys.getColumn(1).getString(), keys.getColumn(0).getString(),
                         keys.getColumn(2).getString()};
          if (keys.getColumn(2).isNull() || key.parent_column.empty()) {
            key.parent_column = primary_key(key.parent_table);
          }
          found.push_back(std::move(key));
        }
      }
    } catch (const SQLite::Exception& e) {
      rethrow(e, m_path, "cannot read foreign keys");
    }
    return found;
  }

  std::int64_t count(const RowSet& rows) override
  {
    SqlBuilder q;
    q.sql = fmt::format("SELECT count(*) FROM {} AS t0", quote(rows.table));
    q.where(rows, "t0");
    return query_int(q, rows.table);
  }

  KeySpan key_span(const RowSet& rows, const std::string& column) override
  {
    SqlBuilder q;
    q.sql = fmt::format("SELECT count(*), min(t0.{0}), max(t0.{0}) FROM {1} AS t0", quote(column), quote(rows.table));
    q.where(rows, "t0");
    KeySpan span;
    try {
      SQLite::Statement statement(m_db, q.sql);
      bind_values(statement, q.binds);
      statement.executeStep();
      span.rows = statement.getColumn(0).getInt64();
      span.lowest = read_value(statement.getColumn(1));
      span.highest = read_value(statement.getColumn(2));
    } catch (const SQLite::Exception& e) {
      rethrow(e, m_path, fmt::format("cannot read '{}'", rows.table));
    }
    return span;
  }

  std::vector<Value> sample(std::string_view table, std::string_view column, std::size_t limit,
                            bool highest_first) override
  {
    SqlBuilder q;
    q.sql = fmt::format("SELECT {0} FROM {1} WHERE {0} IS NOT NULL ORDER BY {0} {2} LIMIT ", quote(column),
                        quote(table), highest_first ? "DESC" : "ASC");
    q.sql += q.bind(static_cast<std::int64_t>(limit));
    return query_column(q, table);
  }

  BatchEnd next_batch(const RowSet& rows, const std::vector<std::string>& columns, std::size_t limit) override
  {
    BatchEnd end;
    end.last.resize(columns.size());
    for_each_ordered(rows, columns, limit, [&](SQLite::Statement& statement) {
      ++end.rows;
      for (std::size_t i = 0; i < columns.size(); ++i) {
        end.last[i] = read_value(statement.getColumn(static_cast<int>(i)));
      }
    });
    if (end.rows == 0) {
      end.last.clear();
    }
    return end;
  }

  std::vector<std::vector<Value>> read_ordered(const RowSet& rows, const std::vector<std::string>& columns,
                                               std::size_t limit) override
  {
    std::vector<std::vector<Value>> out;
    for_each_ordered(rows, columns, limit, [&](SQLite::Statement& statement) {
      auto& row = out.emplace_back(columns.size());
      for (std::size_t i = 0; i < columns.size(); ++i) {
        row[i] = read_value(statement.getColumn(static_cast<int>(i)));
      }
    });
    return out;
  }

  void read_rows(const RowSet& rows, const RowVisitor& each) override
  {
    SqlBuilder q;
    q.sql = fmt::format("SELECT t0.* FROM {} AS t0", quote(rows.table));
    q.where(rows, "t0");
    try {
      SQLite::Statement statement(m_db, q.sql);
      bind_values(statement, q.binds);
      std::vector<std::string> columns;
      for (int i = 0; i < statement.getColumnCount(); ++i) {
        columns.emplace_back(statement.getColumnName(i));
      }
      std::vector<Value> values(columns.size());
      while (statement.executeStep()) {
        for (std::size_t i = 0; i < values.size(); ++i) {
          values[i] = read_value(statement.getColumn(static_cast<int>(i)));
        }
        each(columns, values);
      }
    } catch (const SQLite::Exception& e) {
      rethrow(e, m_path, fmt::format("cannot read '{}'", rows.table));
    }
  }

  std::int64_t insert_missing(std::string_view table, std::string_view key_column,
                              const std::vector<std::string>& columns,
                              const std::vector<std::vector<Value>>& rows) override
  {
    const auto key = std::find(columns.begin(), columns.end(), key_column);
    if (key == columns.end()) {
      throw InternalError(fmt::format("insert into '{}': no key column '{}'", table, key_column));
    }
    const auto key_index = static_cast<std::size_t>(key - columns.begin());
    std::vector<std::string> quoted;
    for (const auto& column : columns) {
      quoted.push_back(quote_name(column));
    }
    const std::string sql = fmt::format(
      "INSERT INTO {0} ({1}) SELECT {2} WHERE NOT EXISTS (SELECT 1 FROM {0} WHERE {3} = ?)", quote(table),
      fmt::join(quoted, ", "), fmt::join(std::vector<std::string>(columns.size(), "?"), ", "), quote_name(key_column));
    std::int64_t inserted = 0;
    try {
      SQLite::Statement statement(m_db, sql);
      for (const auto& row : rows) {
        std::vector<Value> values = row;
        values.push_back(row[key_index]);
        bind_values(statement, values);
        inserted += statement.exec();
        statement.reset();
      }
    } catch (const SQLite::Exception& e) {
      if ((e.getErrorCode() & 0xff) == SQLITE_CONSTRAINT) {
        const bool parent = e.getExtendedErrorCode() == SQLITE_CONSTRAINT_FOREIGNKEY;
        throw DataError(
          fmt::format("database '{}': restoring into '{}' would break a constraint: {}", m_path, table, e.what()),
          parent ? "restore the parent tables' archives too (restore takes them all at once); "
                   "nothing was restored"
                 : "a row already there holds the same unique value under another key (added "
                   "since the purge?); resolve it and restore again; nothing was restored");
      }
      rethrow(e, m_path, fmt::format("cannot insert into '{}'", table));
    }
    return inserted;
  }

  void backup_to(const std::string& path) override
  {
    sqlite3* target = nullptr;
    if (sqlite3_open_v2(path.c_str(), &target, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
      const std::string why = target != nullptr ? sqlite3_errmsg(target) : "out of memory";
      sqlite3_close(target);
      throw CantCreateError(fmt::format("cannot create backup '{}': {}", path, why));
    }
    // All pages in one step: one read transaction, so the copy is one consistent snapshot.
    // In rollback-journal mode the application's writers wait for it (busy_timeout).
    sqlite3_backup* backup = sqlite3_backup_init(target, "main", m_db.getHandle(), "main");
    int rc = backup == nullptr ? sqlite3_errcode(target) : sqlite3_backup_step(backup, -1);
    if (backup != nullptr) {
      const int finished = sqlite3_backup_finish(backup);
      if (rc == SQLITE_DONE) {
        rc = finished;
      }
    }
    const std::string why = sqlite3_errmsg(target);
    sqlite3_close(target);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
      throw TempFailError(fmt::format("database '{}' stayed busy during the backup", m_path),
                          "retry later or raise database.busy_timeout");
    }
    if (rc != SQLITE_OK && rc != SQLITE_DONE) {
      throw IoError(fmt::format("cannot write backup '{}': {}", path, why));
    }
  }

  bool vacuum(std::string_view mode) override
  {
    try {
      if (mode == "full") {
        m_db.exec("VACUUM");
      } else if (mode == "incremental") {
        // 2 is INCREMENTAL; in other modes the pragma does nothing.
        if (m_db.execAndGet("PRAGMA auto_vacuum").getInt() != 2) {
          return false;
        }
        m_db.exec("PRAGMA incremental_vacuum");
      } else {
        m_db.exec("PRAGMA optimize");
      }
    } catch (const SQLite::Exception& e) {
      rethrow(e, m_path, fmt::format("cannot vacuum ({})", mode));
    }
    return true;
  }

  std::int64_t size_bytes() override
  {
    try {
      return m_db.execAndGet("SELECT page_count * page_size FROM pragma_page_count, pragma_page_size").getInt64();
    } catch (const SQLite::Exception& e) {
      rethrow(e, m_path, "cannot read the database size");
    }
  }

  std::string quick_check(const std::string& table) override
  {
    try {
      const auto dot = table.find('.');
      SQLite::Statement check(
        m_db, dot == std::string::npos
                ? fmt::format("PRAGMA quick_check({})", quote(table))
                : fmt::format("PRAGMA {}.quick_check({})", quote(table.substr(0, dot)), quote(table.substr(dot + 1))));
      // One line: the first few problems, without the "*** in database main ***" heading.
      std::vector<std::string> problems;
      while (problems.size() < 3 && check.executeStep()) {
        std::string line = check.getColumn(0).getString();
        std::replace(line.begin(), line.end(), '\n', ' ');
        if (!line.starts_with("***")) {
          problems.push_back(std::move(line));
        }
      }
      return problems.empty() ? std::string("ok") : fmt::format("{}", fmt::join(problems, "; "));
    } catch (const SQLite::Exception& e) {
      if ((e.getErrorCode() & 0xff) == SQLITE_CORRUPT || (e.getErrorCode() & 0xff) == SQLITE_NOTADB) {
        return e.what();
      }
      rethrow(e, m_path, fmt::format("cannot check '{}'", table));
    }
  }

  std::string integrity_check() override
  {
    try {
      return m_db.execAndGet("PRAGMA integrity_check").getString();
    } catch (const SQLite::Exception& e) {
      return e.what();
    }
  }

  std::string name() const override
  {
    std::string base = m_path.substr(m_path.rfind('/') == std::string::npos ? 0 : m_path.rfind('/') + 1);
    if (const auto dot = base.rfind('.'); dot != std::string::npos && dot > 0) {
      base.erase(dot);
    }
    return base.empty() ? "database" : base;
  }

  std::int64_t erase(const RowSet& rows) override
  {
    SqlBuilder q;
    q.sql = fmt::format("DELETE FROM {} AS t0", quote(rows.table));
    q.where(rows, "t0");
    try {
      SQLite::Statement statement(m_db, q.sql);
      bind_values(statement, q.binds);
      statement.exec();
      return sqlite3_changes64(m_db.getHandle());
    } catch (const SQLite::Exception& e) {
      if ((e.getErrorCode() & 0xff) == SQLITE_CONSTRAINT) {
        throw TaskError(
          fmt::format("database '{}': deleting from '{}' would break a constraint: {}", m_path, rows.table, e.what()),
          "another table references these rows; list it under 'children'");
      }
      rethrow(e, m_path, fmt::format("cannot delete from '{}'", rows.table));
    }
  }

  std::unique_ptr<Transaction> begin_write() override
  {
    if (read_only()) {
      throw PermissionError(fmt::format("database '{}' is read-only", m_path));
    }
    return std::make_unique<SqliteTransaction>(m_db, m_path);
  }

  LockAttempt try_lock(const LockHolder& me, LockScope scope) override { return try_file_lock(lock_path(scope), me); }

  std::optional<LockHolder> lock_holder(LockScope scope) override { return file_lock_holder(lock_path(scope)); }

  std::vector<JobState> job_states() override
  {
    std::vector<JobState> out;
    try {
      if (!m_db.tableExists("housekeep_jobs")) {
        return out;
      }
      // Tables written by older versions lack the later columns: they read as never set.
      const auto existing = columns("housekeep_jobs").value_or(std::vector<std::string>{});
      const bool counts = std::find(existing.begin(), existing.end(), "missed") != existing.end();
      SQLite::Statement statement(
        m_db, fmt::format("SELECT job, schedule, timezone, last_fire, next_fire, last_status, updated_at{} "
                          "FROM housekeep_jobs ORDER BY job",
                          counts ? ", first_due, missed, last_missed" : ""));
      while (statement.executeStep()) {
        JobState state;
        state.job = statement.getColumn(0).getString();
        state.schedule = statement.getColumn(1).getString();
        state.timezone = statement.getColumn(2).getString();
        state.last_fire = optional_time(statement.getColumn(3));
        state.next_fire = optional_time(statement.getColumn(4));
        state.last_status = statement.getColumn(5).getString();
        state.updated_at = parse_utc(statement.getColumn(6).getString());
        if (counts) {
          state.first_due = optional_time(statement.getColumn(7));
          state.missed = statement.getColumn(8).getInt64();
          state.last_missed = optional_time(statement.getColumn(9));
        }
        out.push_back(std::move(state));
      }
    } catch (const SQLite::Exception& e) {
      rethrow(e, m_path, "cannot read housekeep_jobs");
    }
    return out;
  }

  void save_job_state(const JobState& state) override
  {
    try {
      m_db.exec("CREATE TABLE IF NOT EXISTS housekeep_jobs (job TEXT PRIMARY KEY, schedule TEXT NOT NULL, "
                "timezone TEXT NOT NULL, last_fire TEXT, next_fire TEXT, last_status TEXT NOT NULL "
                "DEFAULT '', updated_at TEXT NOT NULL, first_due TEXT, missed INTEGER NOT NULL DEFAULT 0, "
                "last_missed TEXT)");
      // Added after the first release of the table: older tables get the columns on first write.
      const auto existing = columns("housekeep_jobs").value_or(std::vector<std::string>{});
      for (const char* column : {"first_due TEXT", "missed INTEGER NOT NULL DEFAULT 0", "last_missed TEXT"}) {
        const std::string_view name = std::string_view(column).substr(0, std::string_view(column).find(' '));
        if (std::find(existing.begin(), existing.end(), name) == existing.end()) {
          m_db.exec(fmt::format("ALTER TABLE housekeep_jobs ADD COLUMN {}", column));
        }
      }
      SQLite::Statement upsert(m_db, "INSERT OR REPLACE INTO housekeep_jobs (job, schedule, timezone, "
                                     "last_fire, next_fire, last_status, updated_at, first_due, missed, "
                                     "last_missed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      upsert.bind(1, state.job);
      upsert.bind(2, state.schedule);
      upsert.bind(3, state.timezone);
      bind_time(upsert, 4, state.last_fire);
      bind_time(upsert, 5, state.next_fire);
      upsert.bind(6, state.last_status);
      upsert.bind(7, format_utc(state.updated_at));
      bind_time(upsert, 8, state.first_due);
      upsert.bind(9, state.missed);
      bind_time(upsert, 10, state.last_missed);
      upsert.exec();
    } catch (const SQLite::Exception& e) {
      rethrow(e, m_path, "cannot record the job in housekeep_jobs");
    }
  }

  std::optional<DaemonBeat> daemon_beat() override
  {
    try {
      if (!m_db.tableExists("housekeep_daemon")) {
        return std::nullopt;
      }
      SQLite::Statement statement(m_db, "SELECT pid, host, started_at, heartbeat_at, status FROM housekeep_daemon "
                                        "WHERE id = 1");
      if (!statement.executeStep()) {
        return std::nullopt;
      }
      DaemonBeat beat;
      beat.pid = statement.getColumn(0).getInt64();
      beat.host = statement.getColumn(1).getString();
      beat.started_at = parse_utc(statement.getColumn(2).getString());
      beat.heartbeat_at = parse_utc(statement.getColumn(3).getString());
      beat.status = statement.getColumn(4).getString();
      return beat;
    } catch (const SQLite::Exception& e) {
      rethrow(e, m_path, "cannot read housekeep_daemon");
    }
  }

  void save_daemon_beat(const DaemonBeat& beat) override
  {
    try {
      m_db.exec("CREATE TABLE IF NOT EXISTS housekeep_daemon (id INTEGER PRIMARY KEY CHECK (id = 1), "
                "pid INTEGER NOT NULL, host TEXT NOT NULL, started_at TEXT NOT NULL, heartbeat_at TEXT "
                "NOT NULL, status TEXT NOT NULL)");
      SQLite::Statement upsert(m_db, "INSERT OR REPLACE INTO housekeep_daemon (id, pid, host, started_at, "
                                     "heartbeat_at, status) VALUES (1, ?, ?, ?, ?, ?)");
      upsert.bind(1, static_cast<int64_t>(beat.pid));
      upsert.bind(2, beat.host);
      upsert.bind(3, format_utc(beat.started_at));
      upsert.bind(4, format_utc(beat.heartbeat_at));
      upsert.bind(5, beat.status);
      upsert.exec();
    } catch (const SQLite::Exception& e) {
      rethrow(e, m_path, "cannot record the daemon's heartbeat in housekeep_daemon");
    }
  }

  std::int64_t record_run(const RunRecord& run) override
  {
    try {
      ensure_runs_table();
      SQLite::Statement insert(
        m_db, run.id == 0 ? "INSERT INTO housekeep_runs (job, task, started_at, finished_at, status, deleted, "
                            "error, host, pid, dry_run, output, kept) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                          : "UPDATE housekeep_runs SET job = ?, task = ?, started_at = ?, finished_at = ?, "
                            "status = ?, deleted = ?, error = ?, host = ?, pid = ?, dry_run = ?, output = ?, "
                            "kept = ? WHERE id = ?");
      insert.bind(1, run.job);
      insert.bind(2, run.task);
      insert.bind(3, format_utc(run.started_at));
      insert.bind(4, format_utc(run.finished_at));
      insert.bind(5, run.status);
      insert.bind(6, nlohmann::json(run.deleted).dump());
      if (run.error.empty()) {
        insert.bind(7);
      } else {
        insert.bind(7, run.error);
      }
      insert.bind(8, run.host);
      insert.bind(9, static_cast<int64_t>(run.pid));
      insert.bind(10, run.dry_run ? 1 : 0);
      if (run.output.empty()) {
        insert.bind(11);
      } else {
        insert.bind(11, run.output);
      }
      if (run.kept.empty()) {
        insert.bind(12);
      } else {
        nlohmann::json kept = nlohmann::json::array();
        for (const auto& k : run.kept) {
          kept.push_back(
            {{"table", k.table}, {"referenced_by", k.referenced_by}, {"through", k.through}, {"rows", k.rows}});
        }
        insert.bind(12, kept.dump());
      }
      if (run.id != 0) {
        insert.bind(13, static_cast<int64_t>(run.id));
        insert.exec();
        return run.id;
      }
      insert.exec();
      return m_db.getLastInsertRowid();
    } catch (const SQLite::Exception& e) {
      rethrow(e, m_path, "cannot record the run in housekeep_runs");
    }
  }

  std::vector<RunRecord> runs(const RunQuery& query) override
  {
    std::vector<RunRecord> out;
    try {
      if (!m_db.tableExists("housekeep_runs")) {
        return out;
      }
      // Tables written by older versions read as without the columns added since.
      const auto existing = columns("housekeep_runs").value_or(std::vector<std::string>{});
      const auto has = [&](std::string_view name) {
        return std::find(existing.begin(), existing.end(), name) != existing.end();
      };
      std::string sql = fmt::format("SELECT id, job, task, started_at, finished_at, status, deleted, error, "
                                    "host, pid, dry_run, {}, {} FROM housekeep_runs",
                                    has("output") ? "output" : "NULL", has("kept") ? "kept" : "NULL");
      sql += " WHERE (? = '' OR task = ?) AND (? = '' OR job = ?) AND (? = '' OR status = ?)";
      sql += " ORDER BY started_at DESC, id DESC LIMIT ?";
      SQLite::Statement statement(m_db, sql);
      int index = 1;
      for (const std::string* value :
           {&query.task, &query.task, &query.job, &query.job, &query.status, &query.status}) {
        statement.bind(index++, *value);
      }
      statement.bind(index, static_cast<int64_t>(query.limit));
      while (statement.executeStep()) {
        RunRecord run;
        run.id = statement.getColumn(0).getInt64();
        run.job = statement.getColumn(1).getString();
        run.task = statement.getColumn(2).getString();
        run.started_at = parse_utc(statement.getColumn(3).getString());
        run.finished_at = parse_utc(statement.getColumn(4).getString());
        run.status = statement.getColumn(5).getString();
        const auto deleted = nlohmann::json::parse(statement.getColumn(6).getString(), nullptr, false);
        if (deleted.is_object()) {
          for (const auto& [table, rows] : deleted.items()) {
            if (rows.is_number_integer()) {
              run.deleted[table] = rows.get<std::int64_t>();
            }
          }
        }
        run.error = statement.getColumn(7).getString();
        run.host = statement.getColumn(8).getString();
        run.pid = statement.getColumn(9).getInt64();
        run.dry_run = statement.getColumn(10).getInt() != 0;
        run.output = statement.getColumn(11).getString();
        const auto kept = nlohmann::json::parse(statement.getColumn(12).getString(), nullptr, false);
        if (kept.is_array()) {
          for (const auto& k : kept) {
            if (k.is_object() && k.value("rows", nlohmann::json()).is_number_integer()) {
              run.kept.push_back({k.value("table", ""), k.value("referenced_by", ""), k.value("through", ""),
                                  k["rows"].get<std::int64_t>()});
            }
          }
        }
        out.push_back(std::move(run));
      }
    } catch (const SQLite::Exception& e) {
      rethrow(e, m_path, "cannot read housekeep_runs");
    }
    return out;
  }

  std::int64_t prune_runs(TimePoint before) override
  {
    try {
      if (!m_db.tableExists("housekeep_runs")) {
        return 0;
      }
      SQLite::Statement statement(m_db, "DELETE FROM housekeep_runs WHERE started_at < ?");
      statement.bind(1, format_utc(before));
      return statement.exec();
    } catch (const SQLite::Exception& e) {
      rethrow(e, m_path, "cannot prune housekeep_runs");
    }
  }

private:
  DatabaseUrl m_url;
  struct stat m_identity {}; // the file's device and inode when opened

  // Beside the database file itself, whatever path named it: through a symbolic link or a
  // relative path, two runs on one database must meet at one lock.
  std::string lock_path(LockScope scope) const
  {
    std::error_code error;
    std::string file = std::filesystem::canonical(m_path, error).string();
    if (error) {
      file = m_path;
    }
    return file + (scope == LockScope::purge ? "-housekeep.lock" : "-housekeep-daemon.lock");
  }

  static std::optional<TimePoint> optional_time(const SQLite::Column& column)
  {
    if (column.isNull()) {
      return std::nullopt;
    }
    return parse_utc(column.getString());
  }

  static void bind_time(SQLite::Statement& statement, int index, const std::optional<TimePoint>& t)
  {
    if (t) {
      statement.bind(index, format_utc(*t));
    } else {
      statement.bind(index);
    }
  }

  std::string m_path;
  SQLite::Database m_db;

  static SQLite::Database open(const DatabaseUrl& url, const OpenOptions& options)
  {
    const std::string& path = url.path;
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
      if (errno == EACCES) {
        throw PermissionError(fmt::format("cannot open database '{}': permission denied", path));
      }
      throw NotFoundError(fmt::format("cannot open database '{}': file not found", path),
                          "check --db (or HOUSEKEEP_DATABASE_URL); 'housekeep demo' creates a "
                          "sample database");
    }
    if (S_ISDIR(info.st_mode)) {
      throw DataError(fmt::format("cannot open database '{}': it is a directory", path));
    }
    if (::access(path.c_str(), R_OK) != 0) {
      throw PermissionError(fmt::format("cannot open database '{}': permission denied", path),
                            "the database file must be readable by this user");
    }
    check_sqlite_url(url);
    const auto mode = url.params.find("mode");
    const bool read_only = options.mode == AccessMode::read_only || (mode != url.params.end() && mode->second == "ro");
    const int flags = read_only ? SQLite::OPEN_READONLY : SQLite::OPEN_READWRITE;
    try {
      return SQLite::Database(path, flags, static_cast<int>(options.busy_timeout.count()));
    } catch (const SQLite::Exception& e) {
      rethrow(e, path, "cannot open");
    }
  }

  // The column a foreign key names no column of references: the table's primary key (its
  // only column of one), else the rowid.
  std::string primary_key(const std::string& table)
  {
    SQLite::Statement info(m_db, "SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk");
    info.bind(1, table);
    std::vector<std::string> keys;
    while (info.executeStep()) {
      keys.push_back(info.getColumn(0).getString());
    }
    return keys.size() == 1 ? keys.front() : std::string("rowid");
  }

  // Steps through the set's first `limit` rows in the order of `columns`, reading only those
  // columns, one row at a time.
  void for_each_ordered(const RowSet& rows, const std::vector<std::string>& columns, std::size_t limit,
                        const std::function<void(SQLite::Statement&)>& each)
  {
    std::vector<std::string> quoted;
    for (const auto& column : columns) {
      quoted.push_back("t0." + quote(column));
    }
    SqlBuilder q;
    q.sql = fmt::format("SELECT {} FROM {} AS t0", fmt::join(quoted, ", "), quote(rows.table));
    q.where(rows, "t0");
    q.sql += fmt::format(" ORDER BY {} LIMIT {}", fmt::join(quoted, ", "), q.bind(static_cast<std::int64_t>(limit)));
    try {
      SQLite::Statement statement(m_db, q.sql);
      bind_values(statement, q.binds);
      while (statement.executeStep()) {
        each(statement);
      }
    } catch (const SQLite::Exception& e) {
      rethrow(e, m_path, fmt::format("cannot read '{}'", rows.table));
    }
  }

  void ensure_runs_table()
  {
    m_db.exec("CREATE TABLE IF NOT EXISTS housekeep_runs ("
              "id INTEGER PRIMARY KEY, job TEXT, task TEXT NOT NULL, started_at TEXT NOT NULL, "
              "finished_at TEXT NOT NULL, status TEXT NOT NULL, deleted TEXT NOT NULL DEFAULT '{}', "
              "error TEXT, host TEXT, pid INTEGER, dry_run INTEGER NOT NULL DEFAULT 0, output TEXT, kept TEXT)");
    m_db.exec("CREATE INDEX IF NOT EXISTS housekeep_runs_started ON housekeep_runs (started_at)");
    // Added after the first release of the table: older tables get the column on first write.
    const auto existing = columns("housekeep_runs").value_or(std::vector<std::string>{});
    for (const char* column : {"output", "kept"}) {
      if (std::find(existing.begin(), existing.end(), column) == existing.end()) {
        m_db.exec(fmt::format("ALTER TABLE housekeep_runs ADD COLUMN {} TEXT", column));
      }
    }
  }

  std::int64_t query_int(const SqlBuilder& q, std::string_view table)
  {
    try {
      SQLite::Statement statement(m_db, q.sql);
      bind_values(statement, q.binds);
      statement.executeStep();
      return statement.getColumn(0).getInt64();
    } catch (const SQLite::Exception& e) {
      rethrow(e, m_path, fmt::format("cannot read '{}'", table));
    }
  }

  std::vector<Value> query_column(const SqlBuilder& q, std::string_view table)
  {
    std::vector<Value> out;
    try {
      SQLite::Statement statement(m_db, q.sql);
      bind_values(statement, q.binds);
      while (statement.executeStep()) {
        out.push_back(read_value(statement.getColumn(0)));
      }
    } catch (const SQLite::Exception& e) {
      rethrow(e, m_path, fmt::format("cannot read '{}'", table));
    }
    return out;
  }
};

} // namespace

void check_sqlite_url(const DatabaseUrl& url)
{
  for (const auto& [name, value] : url.params) {
    if (name != "mode") {
      throw UsageError(fmt::format("database URL '{}': unknown parameter '{}'", url.redacted(), name),
                       "a SQLite URL takes only ?mode=ro or ?mode=rw");
    }
    if (value != "ro" && value != "rw") {
      throw UsageError(fmt::format("database URL '{}': mode must be 'ro' or 'rw', not '{}'", url.redacted(), value),
                       "?mode=ro opens the database read-only (dry runs, stats); ?mode=rw is the default");
    }
  }
}

std::unique_ptr<Store> open_sqlite_store(const DatabaseUrl& url, const OpenOptions& options)
{
  return std::make_unique<SqliteStore>(url, options);
}

} // namespace housekeep
