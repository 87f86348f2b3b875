#include "housekeep/purge.hpp"

#include "housekeep/duration.hpp"
#include "housekeep/error.hpp"
#include "housekeep/text.hpp"
#include "housekeep/time_column.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>

namespace housekeep {

namespace {

// Measures how long each write transaction holds the lock (a measurement, not a policy input).
using Stopwatch = std::chrono::steady_clock;

struct Edge {
  const std::string* parent;
  const ChildConfig* child;
};

std::vector<Edge> cascade_edges(const Config& config)
{
  std::vector<Edge> edges;
  auto add = [&](const std::string& parent, const std::vector<ChildConfig>& children) {
    for (const auto& child : children) {
      const bool seen = std::any_of(edges.begin(), edges.end(), [&](const Edge& e) {
        return *e.parent == parent && e.child->table == child.table &&
               e.child->foreign_key == child.foreign_key;
      });
      if (!seen) {
        edges.push_back({&parent, &child});
      }
    }
  };
  add(config.conversations.table, config.conversations.children);
  add(config.messages.table, config.messages.children);
  add(config.users.table, config.users.children);
  return edges;
}

std::vector<Cascade> cascade_of(const std::vector<Edge>& edges, const std::string& table)
{
  std::vector<Cascade> out;
  for (const auto& edge : edges) {
    if (*edge.parent == table) {
      out.push_back({edge.child->table, edge.child->foreign_key, edge.child->id_column,
                     cascade_of(edges, edge.child->table)});
    }
  }
  return out;
}

// The rows of each descendant table, as row sets hanging off `parent`, deepest first, so
// that deleting them in order never leaves a row whose parent is gone.
void descendants(const std::shared_ptr<const RowSet>& parent, const std::string& parent_key,
                 const std::vector<Cascade>& children,
                 std::vector<std::shared_ptr<const RowSet>>& out)
{
  for (const auto& child : children) {
    auto rows = std::make_shared<RowSet>();
    rows->table = child.table;
    rows->where.emplace_back(ChildOf{child.foreign_key, parent, parent_key});
    descendants(rows, child.id_column, child.children, out);
    out.push_back(std::move(rows));
  }
}

void check_cascade_schema(Store& store, const std::string& table,
                          const std::vector<Cascade>& children, std::string_view what)
{
  for (const auto& child : children) {
    std::vector<std::string> columns{child.foreign_key};
    if (!child.children.empty()) {
      columns.push_back(child.id_column);
    }
    require_columns(store, child.table, columns, what);
    check_cascade_schema(store, child.table, child.children, what);
  }
  // A foreign key the cascade does not follow would either block the delete or, with ON
  // DELETE CASCADE, remove rows behind housekeep's back (uncounted, unarchived).
  for (const auto& key : store.references_to(table)) {
    const bool covered = std::any_of(children.begin(), children.end(), [&](const Cascade& c) {
      return c.table == key.child_table && c.foreign_key == key.column;
    });
    if (!covered) {
      throw DataError(fmt::format("{}: table '{}' references '{}' through column '{}', but the "
                                  "cascade from '{}' does not include it",
                                  what, key.child_table, table, key.column, table),
                      fmt::format("add {{ table = \"{}\", foreign_key = \"{}\" }} to the children "
                                  "that delete from '{}'; nothing was deleted",
                                  key.child_table, key.column, table));
    }
  }
}

// Counts what a real run would delete, leaving out rows that earlier tasks of this dry run
// already counted, then records this task's row sets for the tasks after it.
void count_planned(TaskContext& context, const std::shared_ptr<const RowSet>& selection,
                   const PurgePolicy& policy, TaskResult& result)
{
  std::vector<std::pair<std::shared_ptr<const RowSet>, std::string>> sets;
  std::vector<std::shared_ptr<const RowSet>> tree;
  descendants(selection, policy.id_column, policy.children, tree);
  // descendants() appends each child after its own subtree; its key column is its cascade's.
  std::function<void(const std::vector<Cascade>&)> keys = [&](const std::vector<Cascade>& children) {
    for (const auto& child : children) {
      keys(child.children);
      sets.emplace_back(tree[sets.size()], child.id_column);
    }
  };
  keys(policy.children);
  sets.emplace_back(selection, policy.id_column);

  PlannedDeletions* planned = context.planned;
  for (const auto& [rows, key_column] : sets) {
    RowSet counted = *rows;
    if (planned != nullptr) {
      for (const auto& earlier : planned->entries) {
        if (earlier.rows->table == rows->table && earlier.key_column == key_column) {
          counted.where.emplace_back(NotAmong{key_column, earlier.rows});
        }
      }
    }
    result.add_deleted(rows->table, context.store.count(counted));
  }
  if (planned != nullptr) {
    for (const auto& [rows, key_column] : sets) {
      planned->entries.push_back({rows, key_column});
    }
  }
}

std::vector<std::string> condition_columns(const std::vector<Condition>& where)
{
  std::vector<std::string> columns;
  for (const auto& condition : where) {
    std::visit([&](const auto& c) { columns.push_back(c.column); }, condition);
  }
  return columns;
}

} // namespace

std::vector<Cascade> cascade_from(const Config& config, const std::string& table)
{
  return cascade_of(cascade_edges(config), table);
}

void require_columns(Store& store, const std::string& table, const std::vector<std::string>& columns,
                     std::string_view what)
{
  const auto existing = store.columns(table);
  if (!existing) {
    throw DataError(fmt::format("{}: table '{}' does not exist in database '{}'", what, table,
                                store.describe()),
                    fmt::format("check the table names under [{}] in the configuration", what));
  }
  for (const auto& column : columns) {
    if (std::find(existing->begin(), existing->end(), column) == existing->end()) {
      std::vector<std::string_view> names(existing->begin(), existing->end());
      const std::string guess = closest_match(column, names);
      throw DataError(
        fmt::format("{}: column '{}' does not exist in table '{}'", what, column, table),
        guess.empty() ? fmt::format("columns of '{}': {}", table, fmt::join(*existing, ", "))
                      : fmt::format("did you mean '{}'? (check [{}] in the configuration)", guess, what));
    }
  }
}

void purge(TaskContext& context, const PurgePolicy& policy, TaskResult& result)
{
  Store& store = context.store;
  const std::string& what = policy.task;

  std::vector<std::string> columns = condition_columns(policy.where);
  columns.push_back(policy.id_column);
  if (policy.age) {
    columns.push_back(policy.age->column);
  }
  require_columns(store, policy.table, columns, what);
  for (const auto& condition : policy.where) {
    if (const auto* orphan = std::get_if<Orphan>(&condition)) {
      require_columns(store, orphan->parent_table, {orphan->parent_key}, what);
    }
  }
  check_cascade_schema(store, policy.table, policy.children, what);

  auto selection = std::make_shared<RowSet>();
  selection->table = policy.table;
  selection->where = policy.where;
  if (policy.age) {
    const auto encoding = detect_time_encoding(store, policy.table, policy.age->column,
                                               policy.age->format, context.now, what);
    if (!encoding) {
      context.log.debug("{}: '{}.{}' holds no timestamps; nothing to delete", what, policy.table,
                        policy.age->column);
      result.add_deleted(policy.table, 0);
      return;
    }
    const Value cutoff = encoding->encode(policy.age->cutoff);
    context.log.debug("{}: '{}.{}' is {}; deleting rows before {}", what, policy.table,
                      policy.age->column, encoding->describe(), describe_value(cutoff));
    selection->where.emplace_back(Before{policy.age->column, cutoff});
  }

  if (context.options.dry_run) {
    count_planned(context, selection, policy, result);
    return;
  }

  const std::int64_t batch_size =
    context.options.batch_size.value_or(context.config.defaults.batch_size);
  const Millis pause = context.options.sleep.value_or(context.config.defaults.sleep);
  // Registers every table up front so that the result lists them even when nothing goes.
  {
    std::vector<std::shared_ptr<const RowSet>> tree;
    descendants(selection, policy.id_column, policy.children, tree);
    for (const auto& rows : tree) {
      result.add_deleted(rows->table, 0);
    }
    result.add_deleted(policy.table, 0);
  }
  while (true) {
    const auto started = Stopwatch::now();
    auto transaction = store.begin_write();
    // Selecting inside the write transaction means no row can change between being chosen
    // and being deleted.
    const std::vector<Value> keys =
      store.select_keys(*selection, policy.id_column, static_cast<std::size_t>(batch_size));
    if (keys.empty()) {
      break;
    }
    auto batch = std::make_shared<RowSet>();
    batch->table = policy.table;
    batch->where.emplace_back(KeyIn{policy.id_column, keys});
    std::vector<std::shared_ptr<const RowSet>> tree;
    descendants(batch, policy.id_column, policy.children, tree);
    TableCounts counts;
    for (const auto& rows : tree) {
      counts.emplace_back(rows->table, store.erase(*rows));
    }
    counts.emplace_back(policy.table, store.erase(*batch));
    transaction->commit();
    ++result.batches;
    for (const auto& [table, rows] : counts) {
      result.add_deleted(table, rows);
    }
    const auto held = std::chrono::duration_cast<std::chrono::milliseconds>(Stopwatch::now() - started);
    context.log.debug("{}: batch {}: {} keys, write transaction held {}", what, result.batches,
                      with_thousands(static_cast<std::int64_t>(keys.size())), humanize_duration(held));
    if (static_cast<std::int64_t>(keys.size()) < batch_size) {
      break;
    }
    if (const StopReason reason = context.stop_reason(); reason != StopReason::none) {
      throw Stopped(reason, fmt::format("{}: {} after batch {} ({} rows of '{}' deleted so far)", what,
                                        reason == StopReason::timed_out ? "timed out" : "interrupted",
                                        result.batches, with_thousands(result.deleted.back().second),
                                        policy.table));
    }
    if (pause.count() > 0) {
      context.clock.sleep_for(pause);
    }
  }
}

} // namespace housekeep
