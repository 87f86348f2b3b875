// The store: everything housekeep asks of a database, behind one interface.
//
// Task code describes rows declaratively (a RowSet: a table and conditions) and the backend
// turns that into its own SQL dialect, always with quoted identifiers and bound values.
// Backends are chosen by URL scheme from one table (see open_store()).
#pragma once

#include "housekeep/clock.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace housekeep {

/// Bytes stored as a BLOB.
struct Blob {
  std::string bytes;
  bool operator==(const Blob&) const = default;
};

/// An instant as a database's time type holds it: to the microsecond (PostgreSQL's
/// precision), so that a value read and bound back (a keyset walk's bound) is the same value.
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

/// A database value as bound or read: NULL, integer, real, text, blob, boolean or timestamp.
/// An engine without a boolean or timestamp type reads them as integers and text; bound, a
/// boolean is 1 or 0 there and a timestamp its ISO-8601 UTC text.
using Value = std::variant<std::monostate, std::int64_t, double, std::string, Blob, bool, Timestamp>;

/// ISO-8601 UTC with the microseconds a timestamp has ("2026-06-15T12:00:00.123456Z").
std::string format_timestamp(Timestamp t);

/// Renders a value for messages and logs ("NULL", "42", "'2026-01-01'", "true").
std::string describe_value(const Value& value);

struct RowSet;

/// `column < bound`; the column is compared bare so that its index is used.
struct Before {
  std::string column;
  Value bound;
};

/// `column >= bound`.
struct AtOrAfter {
  std::string column;
  Value bound;
};

/// `column` holds false (0); used for "never activated" flags.
struct IsFalse {
  std::string column;
};

/// `column` holds true (non-zero).
struct IsTrue {
  std::string column;
};

/// `column` is NULL, or names no row of `parent_table` by `parent_key`.
struct Orphan {
  std::string column;
  std::string parent_table;
  std::string parent_key;
};

/// `column` is one of `keys`.
struct KeyIn {
  std::string column;
  std::vector<Value> keys;
};

/// `column` references (by `parent_key`) a row of the parent row set.
struct ChildOf {
  std::string column;
  std::shared_ptr<const RowSet> parent;
  std::string parent_key;
  /// Look each row's parent up by `parent_key` instead of listing the parent rows first:
  /// the right access path when the rows are walked in their own key order.
  bool correlated = false;
};

/// The row is not in `rows` (same table), matched by `column`.
struct NotAmong {
  std::string column;
  std::shared_ptr<const RowSet> rows;
};

/// Some row of `rows` holds this row's `column` value in its `rows_column` (with `negated`:
/// no row does). How rows outside a cascade are found to still reference a row of it.
struct ReferencedBy {
  std::string column;
  std::shared_ptr<const RowSet> rows;
  std::string rows_column;
  bool negated = false;
};

/// A stretch of a keyset walk: rows strictly after `after` and up to `through` (inclusive)
/// in the order of `columns`, compared as one row value so that an index on those columns
/// serves the walk. An empty bound is open.
struct Within {
  std::vector<std::string> columns;
  std::vector<Value> after;
  std::vector<Value> through;
};

/// One condition of a row set; all conditions of a set must hold.
using Condition =
  std::variant<Before, AtOrAfter, IsFalse, IsTrue, Orphan, KeyIn, ChildOf, NotAmong, ReferencedBy, Within>;

/// The rows of `table` that satisfy every condition in `where` (all rows when it is empty).
struct RowSet {
  std::string table;
  std::vector<Condition> where;
};

/// Where the next batch of a keyset walk ends: how many rows it holds, and the walk
/// columns' values of its last row (empty when there are no rows).
struct BatchEnd {
  std::int64_t rows = 0;
  std::vector<Value> last;
};

/// How many rows a set has, and the lowest and highest value of one of its columns (NULL
/// when the set is empty).
struct KeySpan {
  std::int64_t rows = 0;
  Value lowest;
  Value highest;
};

/// Receives one row: the column names, and the values in the same order.
using RowVisitor = std::function<void(const std::vector<std::string>& columns, const std::vector<Value>& values)>;

/// A foreign key declared in the schema: `child_table.column` references
/// `parent_table.parent_column` (the parent's primary key when the declaration names none).
/// A key of several columns appears once per column.
struct ForeignKey {
  std::string child_table;
  std::string column;
  std::string parent_table;
  std::string parent_column;
  std::int64_t width = 1; // how many columns the key has (each appears as an entry)
};

/// Rows a purge left in place because a table outside its cascade still references them.
struct KeptRows {
  std::string table;         // the policy's table, whose rows were kept
  std::string referenced_by; // "table.column" of the reference
  std::string through;       // the descendant table referenced, when not `table` itself
  std::int64_t rows = 0;
  bool operator==(const KeptRows&) const = default;
};

/// Who holds (or wants) the one-purge-per-database lock.
struct LockHolder {
  std::int64_t pid = 0;
  std::string host;
  std::string what;  // the tasks being run
  std::string since; // ISO-8601 UTC
};

/// A write transaction; destroying it without commit() rolls it back.
class Transaction {
public:
  virtual ~Transaction() = default;
  /// Makes the transaction's changes durable.
  virtual void commit() = 0;
};

/// A held lock; destroying it releases the lock.
class Lock {
public:
  virtual ~Lock() = default;
};

/// Either the lock, or the description of whoever holds it.
struct LockAttempt {
  std::unique_ptr<Lock> lock;
  std::optional<LockHolder> holder;
  /// With the lock: a holder that died without releasing it, whose place was taken.
  std::optional<LockHolder> stale;
};

/// The locks a database has: one purge at a time. (Daemons need no lock: any number may run,
/// each slot claimed in housekeep_claims.)
enum class LockScope { purge };

/// What the purge engine needs to know of how the engine's writers wait for each other, so
/// that its batches leave the application room.
struct StoreTraits {
  /// How soon an application writer that has waited `waited` for the write lock tries again
  /// (SQLite's busy handler sleeps, then retries); a pause between batches at least this long
  /// contains its next attempt. Null where writers wait on row locks and are woken when the
  /// lock goes (nothing to add to the pause).
  std::chrono::milliseconds (*writer_retry_gap)(std::chrono::milliseconds waited) = nullptr;
  /// How long a write transaction of a purge should last when the configuration says nothing
  /// (`batch_time`): where every application writer waits for it (SQLite), short; where only
  /// those that touch its rows do (PostgreSQL), longer, so that fewer batches pay each
  /// one's fixed costs (on the 1M demo, 100 ms took `run --task all` from 5.7 s to 4.7 s).
  std::chrono::milliseconds batch_time{50};
  /// The pause between batches when the configuration sets none (`sleep`): where the
  /// application's writers wait for the whole database while a batch writes (SQLite), one
  /// long enough for them to get in; none where they wait only on the rows the batch deletes,
  /// rows the application no longer uses (PostgreSQL).
  std::chrono::milliseconds pause{0};
  /// Cascaded rows that lie at least this densely in their table's key range are deleted by
  /// a walk of their own table, before their parents; none: never. Where each batch that
  /// reaches scattered children rewrites the index and table pages they sit on (SQLite), a
  /// walk in their own key order writes each page once (below 2%, scanning the range to find
  /// them costs more than it saves). Where a delete marks a row in a page that is written
  /// once per checkpoint whatever the batches (PostgreSQL), the walk only adds a scan.
  std::optional<double> sweep_density;
  /// Where other connections' commits can be seen (Store::others_quiet_since): once none has
  /// committed, nor held the write lock when a batch asked for it, for `quiet_after`, a
  /// purge's write transactions may last this long instead of `batch_time`, and go back to it
  /// at the first sign of another writer. Nothing: never. Where a purge's commits cost most
  /// (SQLite, where every one writes its pages to the journal and the file, and scattered
  /// rows make each batch rewrite pages the next one rewrites again), longer transactions
  /// while nobody else writes save most of that; the one writer that arrives during one waits
  /// up to this long, once.
  std::optional<std::chrono::milliseconds> quiet_batch_time;
  std::chrono::milliseconds quiet_after{2000};
};

/// What a column's declared type says of the times it holds.
enum class ColumnTime {
  undeclared, // no time type (text, numbers, or an engine that types values, not columns)
  instant,    // a point in time with its zone (PostgreSQL's timestamptz)
  wall_clock, // a date and time of day without a zone (PostgreSQL's timestamp)
  date,       // a calendar date
};

/// How far the standby furthest behind is from replaying what the primary wrote.
struct StandbyLag {
  bool visible = true; // false: standbys are there, but this role cannot see their lag
  std::string standby; // its application_name (or address)
  std::chrono::milliseconds lag{0};
};

/// What an engine knows of one table's space.
struct TableSpace {
  std::int64_t dead_rows = 0; // deleted (or updated) but not yet reclaimed by a vacuum
  std::int64_t bytes = 0;     // the table with its indexes
};

/// The engine's own upkeep, offered by some backends (SQLite's file backup, VACUUM and
/// checks) and not others: a task asks Store::maintenance() and reports "not supported by
/// this database" when there is none.
class Maintenance {
public:
  virtual ~Maintenance() = default;
  /// The file name extension of a backup (".db", ".dump").
  virtual std::string_view backup_extension() const = 0;
  /// A consistent copy of the whole database, written to the new file `path` while the
  /// application may keep writing. `tool`: the program that writes it, on engines that use
  /// one (empty: the engine's own, found on PATH).
  virtual void backup_to(const std::string& path, const std::string& tool) = 0;
  /// Checks a copy that backup_to() wrote, with the engine's own means, and says what was
  /// found ("integrity check ok"); throws DataError saying what is wrong with it.
  virtual std::string verify_backup(const std::string& path, const std::string& tool) = 0;
  /// Reclaims free space: "full" (rebuild), "incremental" (make dead rows' space reusable,
  /// return free pages where the file allows it) or "optimize" (refresh the planner's
  /// statistics), of `tables` on engines that vacuum by table, of the whole database on
  /// others or when `tables` is empty. Returns false when the mode does not apply to this
  /// database (incremental without auto_vacuum).
  virtual bool vacuum(std::string_view mode, const std::vector<std::string>& tables) = 0;
  /// The table's dead rows and size, on engines that keep such counts (PostgreSQL's
  /// statistics); nothing elsewhere (SQLite frees pages in place), or when it does not exist.
  virtual std::optional<TableSpace> table_space(const std::string&) { return std::nullopt; }
  /// Takes the planner's statistics of `table` afresh when so many of its rows changed since
  /// they were last taken that its plans go wrong (a purge deleted a large share of it), on
  /// engines whose planner works from such statistics; the next task, and the application,
  /// then plan by what is there. Gives up quietly (false) when the table is busy with
  /// another upkeep. Returns true when it took them.
  virtual bool refresh_statistics(const std::string&) { return false; }
  /// The database's size in bytes.
  virtual std::int64_t size_bytes() = 0;
  /// "ok", or the first problem a quick structural check of `table` and its indexes finds
  /// (damaged pages, broken b-trees); empty where the engine has no such check.
  virtual std::string quick_check(const std::string& table) = 0;
  /// How to repair a damaged database with the engine's own tools, for hints.
  virtual std::string_view repair_hint() const = 0;
};

class Backend;
class History;

/// A connection to one database: everything housekeep asks of it, written once over the
/// narrow Backend an engine implements (src/store/backend.hpp).
class Store {
public:
  explicit Store(std::unique_ptr<Backend> backend);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  /// The database's URL with any password masked, for messages.
  std::string describe() const;
  /// A short name for the database, for file names: a file's name without directory and
  /// extension.
  std::string name() const;
  /// True when the connection cannot write (file permissions, read-only mode).
  bool read_only() const;
  /// True when the name the store was opened by no longer names the database it has open (a
  /// SQLite file deleted, or deleted and created anew): open the store again.
  bool replaced() const;
  /// True once the connection to the database server was lost (a restart, a network
  /// failure): open the store again, and take its locks again, which went with it.
  bool connection_lost() const;
  /// How the engine's writers wait (see StoreTraits).
  StoreTraits traits() const;

  /// The column names of `table`, or nothing when the table does not exist.
  std::optional<std::vector<std::string>> columns(std::string_view table);
  /// What the declared type of `table.column` says of its times.
  ColumnTime column_time(std::string_view table, std::string_view column);
  /// Every foreign key declared in the schema.
  std::vector<ForeignKey> foreign_keys();

  /// Number of rows in the set.
  std::int64_t count(const RowSet& rows);
  /// Number of rows in the set, with the lowest and highest value of `column` among them.
  KeySpan key_span(const RowSet& rows, const std::string& column);
  /// Up to `limit` non-NULL values of `column`, lowest first (or highest first).
  std::vector<Value> sample(std::string_view table, std::string_view column, std::size_t limit, bool highest_first);
  /// The next batch of a keyset walk over the set: its first `limit` rows in the order of
  /// `columns` (the last of which must be unique). Reads only those columns, one row at a time.
  BatchEnd next_batch(const RowSet& rows, const std::vector<std::string>& columns, std::size_t limit);
  /// Where the set's first `limit` rows in the order of `columns` end, without reading them
  /// out: `rows` is `limit` and `last` the limit-th row when the set has that many; else
  /// `rows` is 0, and `last` the set's last row (empty when the set is).
  BatchEnd fence(const RowSet& rows, const std::vector<std::string>& columns, std::size_t limit);
  /// The values of `columns` of the set's first `limit` rows in the order of `columns`.
  std::vector<std::vector<Value>> read_ordered(const RowSet& rows, const std::vector<std::string>& columns,
                                               std::size_t limit);
  /// Every column of every row in the set, handed to `each` one row at a time.
  void read_rows(const RowSet& rows, const RowVisitor& each);
  /// Inserts the rows (values in the order of `columns`) whose `key_column` value is not in
  /// `table` yet, and returns how many went in. Call inside a write transaction.
  std::int64_t insert_missing(std::string_view table, std::string_view key_column,
                              const std::vector<std::string>& columns, const std::vector<std::vector<Value>>& rows);
  /// Deletes the rows of the set and returns how many went.
  std::int64_t erase(const RowSet& rows);
  /// Starts a write transaction that holds the write lock from its first statement.
  std::unique_ptr<Transaction> begin_write();

  /// Takes one of the database's locks without waiting.
  LockAttempt try_lock(const LockHolder& me, LockScope scope);
  /// Who holds the lock, without taking it; nothing when it is free.
  std::optional<LockHolder> lock_holder(LockScope scope);

  /// The standby furthest behind in replaying this database's writes; nothing when none
  /// is, or the engine has none.
  std::optional<StandbyLag> standby_lag();
  /// Since when no other connection has been seen committing a write to the database: each
  /// call looks (SQLite's data_version), and a commit since the last look, or since the store
  /// was opened, makes it now. Nothing where the engine cannot tell.
  std::optional<std::chrono::steady_clock::time_point> others_quiet_since();
  /// The engine's upkeep, or null when this database offers none.
  Maintenance* maintenance();
  /// The engine's upkeep for `what` ("vacuum", "backup"); a DataError (65) saying it is not
  /// supported by this database when there is none.
  Maintenance& require_maintenance(std::string_view what);

  /// housekeep's own tables in this database: runs, jobs, daemons' heartbeats, claims.
  History& history() { return *m_history; }

private:
  std::unique_ptr<Backend> m_backend;
  std::unique_ptr<History> m_history;
  std::optional<std::int64_t> m_others_commits; // the engine's count when last looked at
  std::chrono::steady_clock::time_point m_others_seen;

  // Steps through the set's first `limit` rows in the order of `columns`, reading only those.
  void for_each_ordered(const RowSet& rows, const std::vector<std::string>& columns, std::size_t limit,
                        const RowVisitor& each, std::size_t skip = 0, bool descending = false);
};

/// How a store is opened.
enum class AccessMode {
  read_only,  // never writes, whatever the file allows
  read_write, // writes when the file allows it; read_only() tells
};

/// Options for opening a store.
struct OpenOptions {
  AccessMode mode = AccessMode::read_write;
  std::chrono::milliseconds busy_timeout{5000};
  /// A statement of a write transaction running longer is cancelled (75), on engines that can
  /// (servers); zero: no limit.
  std::chrono::milliseconds statement_timeout{60000};
  /// The schema of housekeep's own tables, on engines with schemas; empty: the engine's
  /// default for a table named without one (PostgreSQL: the first schema of search_path).
  std::string history_schema;
  /// How long a lock held in a table of the database (a server's) outlives its holder's
  /// last renewal: a process that died leaves it for at most this long.
  std::chrono::milliseconds lease{60000};
  /// Enforce declared foreign keys on this connection. Off only for restore, which puts back
  /// rows exactly as they were, including orphans that a purge of orphans removed.
  bool enforce_foreign_keys = true;
};

/// A database URL split into its parts.
struct DatabaseUrl {
  std::string scheme; // "sqlite", "postgresql"
  std::string path;   // file path for sqlite
  std::string text;   // as given
  std::map<std::string, std::string> params;

  /// The URL with any password replaced by "****".
  std::string redacted() const;
};

/// The URL with the password of its user information (whatever characters it holds) and
/// every password-like query parameter replaced by "****": the one masking of every output.
std::string mask_secrets(std::string_view url);

/// The URL as another working directory reads it: a database file's relative path made
/// absolute (for cron and systemd, which start elsewhere); any other URL as given.
std::string absolute_database_url(const DatabaseUrl& url);

/// How a database URL is written, for hints: "sqlite:///absolute/path.db, ...".
std::string_view database_url_forms();

/// Parses `sqlite:///abs.db`, `sqlite://rel.db`, a bare path, or `postgresql://...`;
/// throws UsageError on an unknown scheme.
DatabaseUrl parse_database_url(std::string_view text);

/// Opens the store for the URL with the backend its scheme names.
std::unique_ptr<Store> open_store(const DatabaseUrl& url, const OpenOptions& options);

/// Whether two table names name one table: equal, or one is the other with a schema
/// (`main.conversations` and `conversations`; the schema's own declarations name no schema).
bool same_table(std::string_view a, std::string_view b);

/// The foreign keys of the schema that reference `table`.
std::vector<ForeignKey> references_to(Store& store, std::string_view table);

/// True when `name` is `[A-Za-z_][A-Za-z0-9_]*`, optionally `schema.name`.
bool is_safe_identifier(std::string_view name);

} // namespace housekeep
