// The narrow interface an engine implements (private to the store): run a statement, read
// rows, open a write transaction, describe the schema, hold the database's locks. Everything
// built from those (the RowSet compiler's statements, batch reads and deletes, counting,
// housekeep's own tables) is written once above it, in Store and History.
#pragma once

#include "housekeep/error.hpp"
#include "housekeep/store.hpp"
#include "store/sql/compiler.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace housekeep {

/// One statement and the values bound to its placeholders, in order.
struct Sql {
  std::string text;
  std::vector<Value> binds;
};

/// A statement broke a constraint of the schema. The backend throws it in place of its own
/// error so that the front can say which rows and what to do.
class ConstraintError : public DataError {
public:
  ConstraintError(const std::string& message, bool foreign_key) : DataError(message), m_foreign_key(foreign_key) {}
  /// A foreign key (rather than a unique or check constraint) was broken.
  bool foreign_key() const noexcept { return m_foreign_key; }

private:
  bool m_foreign_key;
};

/// An engine's connection to one database.
///
/// Failures are thrown as housekeep's errors (error.hpp), their message naming the database
/// and `doing`; a lost connection to a server is a TempFailError (75), a
/// transaction that lost to another (a deadlock, a serialization failure, a row lock not granted
/// in time) a ConflictError, which the purge tries again.
class Backend {
public:
  virtual ~Backend() = default;

  /// The database's URL with any password masked.
  virtual std::string describe() const = 0;
  /// A short name for the database, for file names (a file's name without extension).
  virtual std::string name() const = 0;
  /// True when the connection cannot write.
  virtual bool read_only() const = 0;
  /// True when the name the store was opened by no longer names the database it has open.
  virtual bool replaced() const = 0;
  /// True once a statement failed because the connection to the server was lost (a server
  /// restart, a network failure): nothing more can go through it. Never for a file engine.
  virtual bool connection_lost() const { return false; }
  /// The engine's SQL, as far as the compiler needs to know it.
  virtual const Dialect& dialect() const = 0;
  /// How the engine's writers wait for each other.
  virtual StoreTraits traits() const = 0;

  /// Runs a statement that returns no rows; returns how many rows it changed.
  virtual std::int64_t execute(const Sql& statement, std::string_view doing) = 0;
  /// Runs a query and hands `each` its rows, one at a time.
  virtual void query(const Sql& statement, const RowVisitor& each, std::string_view doing) = 0;
  /// Starts a write transaction that holds the write lock from its first statement.
  virtual std::unique_ptr<Transaction> begin_write() = 0;

  /// The column names of `table`, or nothing when the table does not exist.
  virtual std::optional<std::vector<std::string>> columns(std::string_view table) = 0;
  /// What the declared type of `table.column` says of its times; undeclared where values,
  /// not columns, carry types.
  virtual ColumnTime column_time(std::string_view /*table*/, std::string_view /*column*/)
  {
    return ColumnTime::undeclared;
  }
  /// Every foreign key declared in the schema.
  virtual std::vector<ForeignKey> foreign_keys() = 0;

  /// Takes one of the database's locks without waiting.
  virtual LockAttempt try_lock(const LockHolder& me, LockScope scope) = 0;
  /// Who holds the lock, without taking it; nothing when it is free.
  virtual std::optional<LockHolder> lock_holder(LockScope scope) = 0;

  /// The schema of housekeep's own tables (created on first write); empty: where the engine
  /// puts a table named without one.
  virtual std::string own_schema() const { return {}; }

  /// The standby furthest behind in replaying this database's writes, on engines that
  /// stream them to standbys; nothing when there is none, or none behind.
  virtual std::optional<StandbyLag> standby_lag() { return std::nullopt; }

  /// A number that changes whenever another connection commits; nothing where the engine
  /// cannot tell.
  virtual std::optional<std::int64_t> commits_by_others() { return std::nullopt; }

  /// The engine's own maintenance (backup, vacuum, checks), or null when it offers none.
  virtual Maintenance* maintenance() { return nullptr; }

  /// Every row a query returns (for small results: the catalog, a count).
  std::vector<std::vector<Value>> rows(const Sql& statement, std::string_view doing);
  /// One text column of every row a query returns (names from the catalog); NULL reads as "".
  std::vector<std::string> texts(const Sql& statement, std::size_t column, std::string_view doing);
  /// The first value of the first row a query returns; NULL when there is none.
  Value first_value(const Sql& statement, std::string_view doing);
};

} // namespace housekeep
