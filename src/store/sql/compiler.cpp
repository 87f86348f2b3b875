#include "store/sql/compiler.hpp"

#include <fmt/format.h>

#include <type_traits>
#include <variant>

namespace housekeep {

std::string quote_name(std::string_view name)
{
  std::string out = "\"";
  for (const char c : name) {
    out += c;
    if (c == '"') {
      out += '"';
    }
  }
  return out + "\"";
}

std::string quote(std::string_view identifier)
{
  const auto dot = identifier.find('.');
  if (dot != std::string_view::npos && is_safe_identifier(identifier)) {
    return quote_name(identifier.substr(0, dot)) + "." + quote_name(identifier.substr(dot + 1));
  }
  return quote_name(identifier);
}

std::string SqlCompiler::bind(Value value)
{
  binds.push_back(std::move(value));
  return m_dialect.placeholder(binds.size());
}

void SqlCompiler::where(const RowSet& rows, const std::string& alias)
{
  bool first = true;
  for (const auto& condition : rows.where) {
    sql += first ? " WHERE " : " AND ";
    first = false;
    condition_sql(condition, alias);
  }
}

std::string SqlCompiler::next_alias()
{
  return fmt::format("t{}", m_next_alias++);
}

// `(a, b) > (?, ?) AND (a, b) <= (?, ?)`: a row-value range that an index on (a, b) serves.
void SqlCompiler::within_sql(const Within& c, const std::string& alias)
{
  std::string columns;
  for (std::size_t i = 0; i < c.columns.size(); ++i) {
    columns += (i == 0 ? "" : ", ") + alias + "." + quote(c.columns[i]);
  }
  if (c.columns.size() > 1) {
    columns = "(" + columns + ")";
  }
  std::string_view separator;
  auto bound = [&](const char* op, const std::vector<Value>& values) {
    if (values.empty()) {
      return;
    }
    std::string marks;
    for (std::size_t i = 0; i < values.size(); ++i) {
      marks += (i == 0 ? "" : ", ") + bind(values[i]);
    }
    if (values.size() > 1) {
      marks = "(" + marks + ")";
    }
    sql += fmt::format("{}{} {} {}", separator, columns, op, marks);
    separator = " AND ";
    if (values.size() > 1 && m_dialect.bound_leading_column) {
      sql += fmt::format(" AND {}.{} {} {}", alias, quote(c.columns.front()),
                         op[0] == '>' ? ">=" : "<=", bind(values.front()));
    }
  };
  bound(">", c.after);
  bound("<=", c.through);
  if (separator.empty()) {
    sql += m_dialect.always;
  }
}

void SqlCompiler::condition_sql(const Condition& condition, const std::string& alias)
{
  if (const auto* range = std::get_if<Within>(&condition)) {
    within_sql(*range, alias);
    return;
  }
  std::visit(
    [&](const auto& c) {
      using T = std::decay_t<decltype(c)>;
      if constexpr (!std::is_same_v<T, Within>) {
        column_condition_sql(c, alias + "." + quote(c.column));
      }
    },
    condition);
}

template <typename T>
void SqlCompiler::column_condition_sql(const T& c, const std::string& column)
{
  if constexpr (std::is_same_v<T, Before>) {
    sql += column + " < " + bind(c.bound);
  } else if constexpr (std::is_same_v<T, AtOrAfter>) {
    sql += column + " >= " + bind(c.bound);
  } else if constexpr (std::is_same_v<T, IsFalse>) {
    sql += fmt::format(fmt::runtime(m_dialect.is_false), column);
  } else if constexpr (std::is_same_v<T, IsTrue>) {
    sql += fmt::format(fmt::runtime(m_dialect.is_true), column);
  } else if constexpr (std::is_same_v<T, Orphan>) {
    const std::string parent = next_alias();
    // A NULL reference matches no parent, so NOT EXISTS holds for it too; written without an
    // OR, the condition is one anti-join the planner can run by the parent's key.
    sql += fmt::format("NOT EXISTS (SELECT 1 FROM {} AS {} WHERE {}.{} = {})", quote(c.parent_table), parent, parent,
                       quote(c.parent_key), column);
  } else if constexpr (std::is_same_v<T, KeyIn>) {
    if (c.keys.empty()) {
      sql += m_dialect.never;
      return;
    }
    sql += column + " IN (";
    for (std::size_t i = 0; i < c.keys.size(); ++i) {
      sql += (i == 0 ? "" : ",") + bind(c.keys[i]);
    }
    sql += ")";
  } else if constexpr (std::is_same_v<T, ChildOf>) {
    if (c.correlated) {
      exists_sql("", *c.parent, c.parent_key, column);
      return;
    }
    const std::string parent = next_alias();
    sql += fmt::format("{} IN (SELECT {}.{} FROM {} AS {}", column, parent, quote(c.parent_key), quote(c.parent->table),
                       parent);
    where(*c.parent, parent);
    sql += ")";
  } else if constexpr (std::is_same_v<T, ReferencedBy>) {
    exists_sql(c.negated ? "NOT " : "", *c.rows, c.rows_column, column);
  } else if constexpr (std::is_same_v<T, NotAmong>) {
    exists_sql("NOT ", *c.rows, c.column, column);
  }
}

// `[NOT ]EXISTS (SELECT 1 FROM rows AS tN WHERE tN.inner_column = outer AND rows' conditions)`.
void SqlCompiler::exists_sql(std::string_view negation, const RowSet& rows, const std::string& inner_column,
                             const std::string& outer)
{
  const std::string alias = next_alias();
  sql += fmt::format("{0}EXISTS (SELECT 1 FROM {1} AS {2} WHERE {2}.{3} = {4}", negation, quote(rows.table), alias,
                     quote(inner_column), outer);
  for (const auto& inner : rows.where) {
    sql += " AND ";
    condition_sql(inner, alias);
  }
  sql += ")";
}

} // namespace housekeep
