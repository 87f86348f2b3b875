// The store's shared front: what housekeep asks of a database, compiled once into the SQL of
// the backend's dialect and run through its narrow interface.
#include "housekeep/history.hpp"
#include "housekeep/store.hpp"
#include "store/backend.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace housekeep {

namespace {

// The statement a compiler has written.
Sql statement(SqlCompiler&& q)
{
  return Sql{std::move(q.sql), std::move(q.binds)};
}

std::string reading(std::string_view table)
{
  return fmt::format("cannot read '{}'", table);
}

} // namespace

Store::Store(std::unique_ptr<Backend> backend)
    : m_backend(std::move(backend)), m_history(std::make_unique<History>(*m_backend, m_backend->own_schema())),
      m_others_commits(m_backend->commits_by_others()), m_others_seen(std::chrono::steady_clock::now())
{
}

Store::~Store() = default;

std::string Store::describe() const
{
  return m_backend->describe();
}

std::string Store::name() const
{
  return m_backend->name();
}

bool Store::read_only() const
{
  return m_backend->read_only();
}

bool Store::replaced() const
{
  return m_backend->replaced();
}

bool Store::connection_lost() const
{
  return m_backend->connection_lost();
}

StoreTraits Store::traits() const
{
  return m_backend->traits();
}

std::optional<std::vector<std::string>> Store::columns(std::string_view table)
{
  return m_backend->columns(table);
}

ColumnTime Store::column_time(std::string_view table, std::string_view column)
{
  return m_backend->column_time(table, column);
}

std::vector<ForeignKey> Store::foreign_keys()
{
  return m_backend->foreign_keys();
}

std::int64_t Store::count(const RowSet& rows)
{
  SqlCompiler q(m_backend->dialect());
  q.sql = fmt::format("SELECT count(*) FROM {} AS t0", quote(rows.table));
  q.where(rows, "t0");
  std::int64_t found = 0;
  m_backend->query(
    statement(std::move(q)),
    [&](const std::vector<std::string>&, const std::vector<Value>& values) {
      const auto* n = std::get_if<std::int64_t>(&values.at(0));
      found = n != nullptr ? *n : 0;
    },
    reading(rows.table));
  return found;
}

KeySpan Store::key_span(const RowSet& rows, const std::string& column)
{
  SqlCompiler q(m_backend->dialect());
  q.sql = fmt::format("SELECT count(*), min(t0.{0}), max(t0.{0}) FROM {1} AS t0", quote(column), quote(rows.table));
  q.where(rows, "t0");
  KeySpan span;
  m_backend->query(
    statement(std::move(q)),
    [&](const std::vector<std::string>&, const std::vector<Value>& values) {
      const auto* n = std::get_if<std::int64_t>(&values.at(0));
      span.rows = n != nullptr ? *n : 0;
      span.lowest = values.at(1);
      span.highest = values.at(2);
    },
    reading(rows.table));
  return span;
}

std::vector<Value> Store::sample(std::string_view table, std::string_view column, std::size_t limit, bool highest_first)
{
  SqlCompiler q(m_backend->dialect());
  q.sql = fmt::format("SELECT {0} FROM {1} WHERE {0} IS NOT NULL ORDER BY {0} {2} LIMIT ", quote(column), quote(table),
                      highest_first ? "DESC" : "ASC");
  q.sql += q.bind(static_cast<std::int64_t>(limit));
  std::vector<Value> out;
  m_backend->query(
    statement(std::move(q)),
    [&](const std::vector<std::string>&, const std::vector<Value>& values) { out.push_back(values.at(0)); },
    reading(table));
  return out;
}

void Store::for_each_ordered(const RowSet& rows, const std::vector<std::string>& columns, std::size_t limit,
                             const RowVisitor& each, std::size_t skip, bool descending)
{
  std::vector<std::string> quoted;
  std::vector<std::string> order;
  for (const auto& column : columns) {
    quoted.push_back("t0." + quote(column));
    order.push_back(quoted.back() + (descending ? " DESC" : ""));
  }
  SqlCompiler q(m_backend->dialect());
  q.sql = fmt::format("SELECT {} FROM {} AS t0", fmt::join(quoted, ", "), quote(rows.table));
  q.where(rows, "t0");
  q.sql += fmt::format(" ORDER BY {} LIMIT {}", fmt::join(order, ", "), q.bind(static_cast<std::int64_t>(limit)));
  if (skip > 0) {
    q.sql += " OFFSET " + q.bind(static_cast<std::int64_t>(skip));
  }
  m_backend->query(statement(std::move(q)), each, reading(rows.table));
}

BatchEnd Store::fence(const RowSet& rows, const std::vector<std::string>& columns, std::size_t limit)
{
  BatchEnd end;
  const auto keep = [&](const std::vector<std::string>&, const std::vector<Value>& values) { end.last = values; };
  // The engine steps over the rows before the limit-th in its index; only that one comes back.
  for_each_ordered(rows, columns, 1, keep, std::max<std::size_t>(limit, 1) - 1);
  if (!end.last.empty()) {
    end.rows = static_cast<std::int64_t>(limit);
    return end;
  }
  for_each_ordered(rows, columns, 1, keep, 0, true);
  return end;
}

BatchEnd Store::next_batch(const RowSet& rows, const std::vector<std::string>& columns, std::size_t limit)
{
  BatchEnd end;
  for_each_ordered(rows, columns, limit, [&](const std::vector<std::string>&, const std::vector<Value>& values) {
    ++end.rows;
    end.last = values;
  });
  return end;
}

std::vector<std::vector<Value>> Store::read_ordered(const RowSet& rows, const std::vector<std::string>& columns,
                                                    std::size_t limit)
{
  std::vector<std::vector<Value>> out;
  for_each_ordered(rows, columns, limit,
                   [&](const std::vector<std::string>&, const std::vector<Value>& values) { out.push_back(values); });
  return out;
}

void Store::read_rows(const RowSet& rows, const RowVisitor& each)
{
  SqlCompiler q(m_backend->dialect());
  q.sql = fmt::format("SELECT t0.* FROM {} AS t0", quote(rows.table));
  q.where(rows, "t0");
  m_backend->query(statement(std::move(q)), each, reading(rows.table));
}

std::int64_t Store::insert_missing(std::string_view table, std::string_view key_column,
                                   const std::vector<std::string>& columns, const std::vector<std::vector<Value>>& rows)
{
  const auto key = std::find(columns.begin(), columns.end(), key_column);
  if (key == columns.end()) {
    throw InternalError(fmt::format("insert into '{}': no key column '{}'", table, key_column));
  }
  const auto key_index = static_cast<std::size_t>(key - columns.begin());
  std::vector<std::string> quoted;
  std::vector<std::string> placeholders;
  const Dialect& dialect = m_backend->dialect();
  for (const auto& column : columns) {
    quoted.push_back(quote_name(column));
    placeholders.push_back(dialect.placeholder(placeholders.size() + 1));
  }
  // Asked first, then inserted with VALUES: there every engine types the values by their
  // columns (in a SELECT list, PostgreSQL would take untyped values for text).
  Sql exists{
    fmt::format("SELECT 1 FROM {} WHERE {} = {}", quote(table), quote_name(key_column), dialect.placeholder(1)), {}};
  Sql insert{fmt::format("INSERT INTO {} ({}) VALUES ({})", quote(table), fmt::join(quoted, ", "),
                         fmt::join(placeholders, ", ")),
             {}};
  std::int64_t inserted = 0;
  const std::string doing = fmt::format("cannot insert into '{}'", table);
  try {
    for (const auto& row : rows) {
      exists.binds = {row[key_index]};
      bool there = false;
      m_backend->query(
        exists, [&](const std::vector<std::string>&, const std::vector<Value>&) { there = true; }, doing);
      if (!there) {
        insert.binds = row;
        inserted += m_backend->execute(insert, doing);
      }
    }
  } catch (const ConstraintError& e) {
    throw DataError(
      fmt::format("database '{}': restoring into '{}' would break a constraint: {}", describe(), table, e.what()),
      e.foreign_key() ? "restore the parent tables' archives too (restore takes them all at once); a row whose "
                        "parent was already gone when it was deleted (an orphan) cannot come back while the "
                        "database checks the key of new rows; nothing was restored"
                      : "a row already there holds the same unique value under another key (added "
                        "since the purge?); resolve it and restore again; nothing was restored");
  }
  return inserted;
}

std::int64_t Store::erase(const RowSet& rows)
{
  SqlCompiler q(m_backend->dialect());
  q.sql = fmt::format("DELETE FROM {} AS t0", quote(rows.table));
  q.where(rows, "t0");
  try {
    return m_backend->execute(statement(std::move(q)), fmt::format("cannot delete from '{}'", rows.table));
  } catch (const ConstraintError& e) {
    throw TaskError(
      fmt::format("database '{}': deleting from '{}' would break a constraint: {}", describe(), rows.table, e.what()),
      "another table references these rows; list it under 'children'");
  }
}

std::unique_ptr<Transaction> Store::begin_write()
{
  if (read_only()) {
    throw PermissionError(fmt::format("database '{}' is read-only", describe()));
  }
  return m_backend->begin_write();
}

LockAttempt Store::try_lock(const LockHolder& me, LockScope scope)
{
  return m_backend->try_lock(me, scope);
}

std::optional<LockHolder> Store::lock_holder(LockScope scope)
{
  return m_backend->lock_holder(scope);
}

std::optional<StandbyLag> Store::standby_lag()
{
  return m_backend->standby_lag();
}

std::optional<std::chrono::steady_clock::time_point> Store::others_quiet_since()
{
  const auto commits = m_backend->commits_by_others();
  if (!commits || !m_others_commits) {
    return std::nullopt;
  }
  if (*commits != *m_others_commits) {
    m_others_commits = commits;
    m_others_seen = std::chrono::steady_clock::now();
  }
  return m_others_seen;
}

Maintenance* Store::maintenance()
{
  return m_backend->maintenance();
}

Maintenance& Store::require_maintenance(std::string_view what)
{
  Maintenance* maintenance = m_backend->maintenance();
  if (maintenance == nullptr) {
    throw DataError(fmt::format("database '{}': {} is not supported by this database", describe(), what),
                    "use the database's own tools for it");
  }
  return *maintenance;
}

} // namespace housekeep
