// The SQLite backend: one database file, opened (never created) through SQLiteCpp.
#include "store/sqlite/sqlite_backend.hpp"

#include "store/backend.hpp"
#include "store/database_file.hpp"
#include "store/file_lock.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <sys/stat.h>

#include <algorithm>
#include <array>

namespace housekeep {

namespace {

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

// Maps a SQLite failure to the exit statuses of SPEC §3.
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
    throw TempFailError(what, "another process holds a write lock; retry later or raise database.busy_timeout");
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
  case SQLITE_CONSTRAINT: throw ConstraintError(e.what(), e.getExtendedErrorCode() == SQLITE_CONSTRAINT_FOREIGNKEY);
  case SQLITE_ERROR:
  case SQLITE_MISMATCH: // a value of the wrong type for its column (an integer beyond 64 bits)
    throw DataError(what);
  default: throw TaskError(what);
  }
}

// SQLite's SQL: "?" placeholders, booleans stored as integers (Django's BOOL, 0 and 1).
std::string question_mark(std::size_t)
{
  return "?";
}

// julianday('now') is the system clock to the millisecond (unixepoch('subsec') needs 3.42).
const Dialect k_dialect{&question_mark,
                        "{} = 0",
                        "({0} IS NOT NULL AND {0} <> 0)",
                        "1",
                        "0",
                        "INTEGER PRIMARY KEY",
                        false,
                        "CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)"};

// Binds `values` to the statement's placeholders, in order. SQLite has no boolean or time
// type: a boolean is 1 or 0, a time its ISO-8601 UTC text (as Django stores it).
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
        } else if constexpr (std::is_same_v<T, bool>) {
          statement.bind(index, v ? 1 : 0);
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          statement.bind(index, format_utc(std::chrono::floor<std::chrono::milliseconds>(v)));
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

// `PRAGMA name(table)` for a table that may name its schema (`main.t`).
std::string pragma_on(std::string_view pragma, std::string_view table)
{
  const auto dot = table.find('.');
  if (dot == std::string_view::npos) {
    return fmt::format("PRAGMA {}({})", pragma, quote(table));
  }
  return fmt::format("PRAGMA {}.{}({})", quote(table.substr(0, dot)), pragma, quote(table.substr(dot + 1)));
}

// The page cache of a connection, in KiB.
constexpr int k_page_cache_kib = 16 * 1024;

SQLite::Database open_file(const DatabaseUrl& url, const OpenOptions& options)
{
  const std::string& path = url.path;
  check_database_file(path);
  check_sqlite_url(url);
  const auto mode = url.params.find("mode");
  const bool read_only = options.mode == AccessMode::read_only || (mode != url.params.end() && mode->second == "ro");
  try {
    return SQLite::Database(path, read_only ? SQLite::OPEN_READONLY : SQLite::OPEN_READWRITE,
                            static_cast<int>(options.busy_timeout.count()));
  } catch (const SQLite::Exception& e) {
    rethrow(e, path, "cannot open");
  }
}

class SqliteBackend final : public Backend, public Maintenance {
public:
  SqliteBackend(const DatabaseUrl& url, const OpenOptions& options)
      : m_url(url), m_path(url.path), m_db(open_file(url, options)), m_identity(m_path)
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
  }

  std::string describe() const override { return m_url.redacted(); }

  std::string name() const override { return database_file_name(m_path); }

  bool read_only() const override { return sqlite3_db_readonly(m_db.getHandle(), "main") == 1; }

  bool replaced() const override { return m_identity.replaced(); }

  const Dialect& dialect() const override { return k_dialect; }

  StoreTraits traits() const override
  {
    StoreTraits traits;
    traits.writer_retry_gap = &busy_handler_gap;
    traits.batch_time = std::chrono::milliseconds{50};
    traits.pause = std::chrono::milliseconds{25};
    traits.sweep_density = 0.02;
    // On 1 million messages whose ids are shuffled against time, the conversations task took
    // 39.7 s in 50 ms batches, 24.4 s in 500 ms, 18.9 s in 1 s and 18.8 s in 2 s ones.
    traits.quiet_batch_time = std::chrono::milliseconds{1000};
    return traits;
  }

  std::optional<std::int64_t> commits_by_others() override
  {
    // Per connection: changes when another connection (of any process) commits.
    const Value version = first_value({"PRAGMA data_version", {}}, "reading whether others wrote");
    const auto* number = std::get_if<std::int64_t>(&version);
    return number == nullptr ? std::nullopt : std::optional<std::int64_t>{*number};
  }

  std::int64_t execute(const Sql& sql, std::string_view doing) override
  {
    try {
      SQLite::Statement statement(m_db, sql.text);
      bind_values(statement, sql.binds);
      const auto before = sqlite3_total_changes64(m_db.getHandle());
      statement.exec();
      return sqlite3_total_changes64(m_db.getHandle()) - before;
    } catch (const SQLite::Exception& e) {
      rethrow(e, m_path, doing);
    }
  }

  void query(const Sql& sql, const RowVisitor& each, std::string_view doing) override
  {
    try {
      SQLite::Statement statement(m_db, sql.text);
      bind_values(statement, sql.binds);
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
      rethrow(e, m_path, doing);
    }
  }

  std::unique_ptr<Transaction> begin_write() override { return std::make_unique<SqliteTransaction>(m_db, m_path); }

  std::optional<std::vector<std::string>> columns(std::string_view table) override
  {
    auto names = texts({pragma_on("table_info", table), {}}, 1, fmt::format("cannot read the columns of '{}'", table));
    return names.empty() ? std::nullopt : std::optional(std::move(names));
  }

  std::vector<ForeignKey> foreign_keys() override
  {
    const std::string doing = "cannot read foreign keys";
    std::vector<ForeignKey> found;
    for (const auto& child :
         texts({"SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", {}}, 0, doing)) {
      for (const auto& key : rows({R"(SELECT "table", "from", "to", count(*) OVER (PARTITION BY id) FROM
                                   pragma_foreign_key_list(?))",
                                   {child}},
                                  doing)) {
        const auto* to = std::get_if<std::string>(&key.at(2));
        const auto& parent = std::get<std::string>(key.at(0));
        found.push_back({child, std::get<std::string>(key.at(1)), parent,
                         to != nullptr && !to->empty() ? *to : primary_key(parent), std::get<std::int64_t>(key.at(3))});
      }
    }
    return found;
  }

  LockAttempt try_lock(const LockHolder& me, LockScope scope) override
  {
    return try_file_lock(lock_file_beside(m_path, scope), me);
  }

  std::optional<LockHolder> lock_holder(LockScope scope) override
  {
    return file_lock_holder(lock_file_beside(m_path, scope));
  }

  Maintenance* maintenance() override { return this; }

  std::string_view backup_extension() const override { return ".db"; }

  void backup_to(const std::string& path, const std::string&) override
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

  bool vacuum(std::string_view mode, const std::vector<std::string>&) override
  {
    const std::string doing = fmt::format("cannot vacuum ({})", mode);
    if (mode == "full") {
      execute({"VACUUM", {}}, doing);
    } else if (mode == "optimize") {
      execute({"PRAGMA optimize", {}}, doing);
    } else {
      // 2 is INCREMENTAL; in other modes the pragma does nothing.
      if (first_value({"PRAGMA auto_vacuum", {}}, doing) != Value{std::int64_t{2}}) {
        return false;
      }
      execute({"PRAGMA incremental_vacuum", {}}, doing);
    }
    return true;
  }

  std::int64_t size_bytes() override
  {
    const Value size = first_value({"SELECT page_count * page_size FROM pragma_page_count, pragma_page_size", {}},
                                   "cannot read the database size");
    return std::get<std::int64_t>(size);
  }

  std::string quick_check(const std::string& table) override
  {
    // One line: the first few problems, without the "*** in database main ***" heading.
    std::vector<std::string> problems;
    try {
      SQLite::Statement check(m_db, pragma_on("quick_check", table));
      while (problems.size() < 3 && check.executeStep()) {
        std::string line = check.getColumn(0).getString();
        std::replace(line.begin(), line.end(), '\n', ' ');
        if (!line.starts_with("***")) {
          problems.push_back(std::move(line));
        }
      }
    } catch (const SQLite::Exception& e) {
      if ((e.getErrorCode() & 0xff) == SQLITE_CORRUPT || (e.getErrorCode() & 0xff) == SQLITE_NOTADB) {
        return e.what();
      }
      rethrow(e, m_path, fmt::format("cannot check '{}'", table));
    }
    return problems.empty() ? std::string("ok") : fmt::format("{}", fmt::join(problems, "; "));
  }

  std::string_view repair_hint() const override { return "repair it (sqlite3's .recover)"; }

  std::string verify_backup(const std::string& path, const std::string&) override
  {
    std::string check;
    try {
      SQLite::Database copy(path, SQLite::OPEN_READONLY);
      check = copy.execAndGet("PRAGMA integrity_check").getString();
    } catch (const SQLite::Exception& e) {
      check = e.what(); // a file too damaged to check
    }
    if (check != "ok") {
      throw DataError(fmt::format("the backup failed its integrity check: {}", check),
                      "it was not kept; check the database itself with PRAGMA integrity_check");
    }
    return "integrity check ok";
  }

private:
  DatabaseUrl m_url;
  std::string m_path;
  SQLite::Database m_db;
  FileIdentity m_identity;

  // The column a foreign key names no column of references: the table's primary key (its
  // only column of one), else the rowid.
  std::string primary_key(const std::string& table)
  {
    const auto keys =
      texts({"SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", {table}}, 0, "cannot read foreign keys");
    return keys.size() == 1 ? keys.front() : std::string("rowid");
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

std::unique_ptr<Backend> open_sqlite_backend(const DatabaseUrl& url, const OpenOptions& options)
{
  if (!options.history_schema.empty()) {
    // One file holds the application's tables and housekeep's: there is no other schema.
    throw ConfigError(fmt::format("database '{}': database.history_schema = '{}' applies to PostgreSQL only",
                                  url.redacted(), options.history_schema),
                      "remove it for a SQLite database: housekeep's tables live in the file itself");
  }
  return std::make_unique<SqliteBackend>(url, options);
}

} // namespace housekeep
