// Turns a RowSet into SQL, once for every SQL engine: the conditions of store.hpp become a
// WHERE clause over bound values, the identifiers quoted, with what differs between engines
// (placeholders, truth tests) taken from a Dialect. Private to the store's backends.
#pragma once

#include "housekeep/store.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace housekeep {

/// What differs between the SQL of two engines, as far as the compiler is concerned.
struct Dialect {
  /// The placeholder of the n-th bound value, counted from 1: "?" (SQLite), "$n" (PostgreSQL).
  std::string (*placeholder)(std::size_t n);
  /// A column's truth tests, `{}` standing for the quoted column: where booleans are integers
  /// "{} = 0" and "({0} IS NOT NULL AND {0} <> 0)"; where they are a type "{} IS FALSE" and
  /// "{} IS TRUE".
  std::string_view is_false;
  std::string_view is_true;
  /// Conditions that always hold, or never do: "1" and "0", or "TRUE" and "FALSE".
  std::string_view always;
  std::string_view never;
};

/// One name, quoted whatever it holds: an embedded '"' is doubled, a '.' is part of the name.
/// Column names read from the database or an archive are quoted this way.
std::string quote_name(std::string_view name);

/// A validated identifier from the configuration, where a '.' separates a schema from the
/// name (`main.conversations`); quoting keeps reserved words working.
std::string quote(std::string_view identifier);

/// A statement being written: its text and the values bound to its placeholders, in order.
class SqlCompiler {
public:
  explicit SqlCompiler(const Dialect& dialect) : m_dialect(dialect) {}

  std::string sql;
  std::vector<Value> binds;

  /// Binds `value` and returns its placeholder, to be written into `sql` where it goes.
  std::string bind(Value value);

  /// Appends " WHERE ..." for the conditions of `rows`, its table being called `alias`.
  void where(const RowSet& rows, const std::string& alias);

private:
  const Dialect& m_dialect;
  int m_next_alias = 1;

  std::string next_alias();
  void within_sql(const Within& c, const std::string& alias);
  void condition_sql(const Condition& condition, const std::string& alias);
  void exists_sql(std::string_view negation, const RowSet& rows, const std::string& inner_column,
                  const std::string& outer);
  template <typename T>
  void column_condition_sql(const T& c, const std::string& column);
};

} // namespace housekeep
