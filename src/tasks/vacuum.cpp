// kind = "vacuum": reclaim space after large purges, reporting the size before and after.
// "full" rebuilds and holds an exclusive lock meanwhile: schedule it quiet. Offered where the
// database's engine has the maintenance for it. Engines that vacuum by table (PostgreSQL) do
// the tables the purge tasks work on (or those `tables` names); each table's dead rows and
// size before and after are reported where the engine counts them.
#include "housekeep/purge.hpp"
#include "housekeep/task_kind.hpp"
#include "housekeep/text.hpp"

#include <algorithm>

namespace housekeep {

namespace {

// Every table a purge task of the configuration deletes from, with its cascades, once each.
std::vector<std::string> purged_tables(const Config& config)
{
  std::vector<std::string> out;
  const auto add = [&](const std::string& table) {
    if (std::none_of(out.begin(), out.end(), [&](const std::string& t) { return same_table(t, table); })) {
      out.push_back(table);
    }
  };
  for (const auto& task : config.tasks) {
    const TaskKind* kind = find_kind(task.kind);
    if (kind == nullptr || !kind->writes || kind->tables == nullptr) {
      continue;
    }
    for (const auto& table : kind->tables(task, config)) {
      add(table);
      for (const auto& child : cascade_from(config, table)) {
        add(child.table);
      }
    }
  }
  return out;
}

void run_vacuum(TaskContext& context, TaskResult& result)
{
  const TaskConfig& t = *context.task;
  const struct {
    const std::string& name;
    const std::string& mode;
    std::vector<std::string> tables;
  } c{t.name, t.text("mode"), t.strings("tables")};
  Maintenance& engine = context.store.require_maintenance("vacuum");
  std::vector<std::string> tables;
  for (const auto& table : c.tables.empty() ? purged_tables(context.config) : c.tables) {
    if (context.store.columns(table)) {
      tables.push_back(table);
    } else if (!c.tables.empty()) {
      throw DataError(fmt::format("{}: table '{}' does not exist", c.name, table),
                      fmt::format("check tables in [tasks.{}]; nothing was vacuumed", c.name));
    }
  }
  std::vector<std::pair<std::string, TableSpace>> before_tables;
  for (const auto& table : tables) {
    if (const auto space = engine.table_space(table)) {
      before_tables.emplace_back(table, *space);
    }
  }
  const std::int64_t before = engine.size_bytes();
  result.stats = {{"bytes_before", before}, {"bytes_after", before}};
  if (context.options.dry_run) {
    // Debug: the guards' count before a real run passes here too.
    context.log.debug("{}: would run {} on {} ({} bytes)", c.name, c.mode, context.store.describe(),
                      with_thousands(before));
    return;
  }
  // (No purged table exists: the whole database.)
  if (!engine.vacuum(c.mode, tables)) {
    context.log.notice("{}: incremental vacuum does nothing here: the database's auto_vacuum is not "
                       "INCREMENTAL (use mode = \"full\", or set it with VACUUM once)",
                       c.name);
  }
  result.stats = {{"bytes_before", before}, {"bytes_after", engine.size_bytes()}};
  for (const auto& [table, space] : before_tables) {
    const TableSpace after = engine.table_space(table).value_or(space);
    result.stats.emplace_back(table + ".dead_rows_before", space.dead_rows);
    result.stats.emplace_back(table + ".dead_rows_after", after.dead_rows);
    result.stats.emplace_back(table + ".bytes_before", space.bytes);
    result.stats.emplace_back(table + ".bytes_after", after.bytes);
    context.log.info("{}: {}: {} dead rows before, {} after; {} bytes before, {} after", c.name, table,
                     with_thousands(space.dead_rows), with_thousands(after.dead_rows), with_thousands(space.bytes),
                     with_thousands(after.bytes));
  }
}

void check_tables(const TaskConfig& task, const KeyProblem& problem)
{
  for (const auto& table : task.strings("tables")) {
    if (!is_safe_identifier(table)) {
      problem("tables", fmt::format("'{}' is not a safe SQL identifier", table),
              "names must match [A-Za-z_][A-Za-z0-9_]* (optionally schema.name)");
    }
  }
}

} // namespace

const TaskKind& vacuum_kind()
{
  static const TaskKind kind{
    "vacuum",
    "reclaim free space (full, incremental) or refresh statistics (optimize)",
    true,
    &run_vacuum,
    {{"mode", KeyType::text, std::string("optimize"), false, 0, 0, {"optimize", "incremental", "full"}},
     {"tables", KeyType::strings, std::vector<std::string>{}, false}},
    nullptr,
    &check_tables};
  return kind;
}

} // namespace housekeep
