// The task table and the task functions. Each function holds only its policy; the purge
// engine and run_tasks() do the rest.
#include "housekeep/duration.hpp"
#include "housekeep/error.hpp"
#include "housekeep/process.hpp"
#include "housekeep/purge.hpp"
#include "housekeep/task.hpp"
#include "housekeep/text.hpp"
#include "housekeep/time_column.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <tuple>

namespace housekeep {

namespace {

void run_conversations(TaskContext& context, TaskResult& result)
{
  const auto& c = context.config.conversations;
  PurgePolicy policy;
  policy.task = "tasks.conversations";
  policy.name = "conversations";
  policy.table = c.table;
  policy.id_column = c.id_column;
  policy.age = AgeLimit{c.time_column, c.time_format, context.now - context.options.older_than.value_or(c.older_than)};
  policy.children = cascade_from(context.config, c.table);
  policy.referenced = c.referenced;
  purge(context, policy, result);
}

void run_messages(TaskContext& context, TaskResult& result)
{
  const auto& c = context.config.messages;
  PurgePolicy policy;
  policy.task = "tasks.messages";
  policy.name = "messages";
  policy.table = c.table;
  policy.id_column = c.id_column;
  policy.where.emplace_back(Orphan{c.foreign_key, c.parent, c.parent_id_column});
  policy.children = cascade_from(context.config, c.table);
  policy.referenced = c.referenced;
  purge(context, policy, result);
}

void run_users(TaskContext& context, TaskResult& result)
{
  const auto& c = context.config.users;
  PurgePolicy policy;
  policy.task = "tasks.users";
  policy.name = "users";
  policy.table = c.table;
  policy.id_column = c.id_column;
  policy.where.emplace_back(IsFalse{c.active_column});
  policy.age = AgeLimit{c.time_column, c.time_format, context.now - context.options.older_than.value_or(c.older_than)};
  policy.children = cascade_from(context.config, c.table);
  policy.referenced = c.referenced;
  purge(context, policy, result);
}

void run_stats(TaskContext& context, TaskResult& result)
{
  const Config& config = context.config;
  Store& store = context.store;
  require_columns(store, config.users.table, {config.users.active_column}, "stats", "tasks.users");
  require_columns(store, config.conversations.table, {config.conversations.time_column}, "stats",
                  "tasks.conversations");
  require_columns(store, config.messages.table, {config.messages.time_column}, "stats", "tasks.messages");

  const std::string window = config.stats.recent_text; // as configured, never rewritten
  const auto& users = config.users;
  const auto& conversations = config.conversations;
  const auto& messages = config.messages;
  // A bad time value never fails the figures: it is counted as unparseable, and named once.
  const TimePoint since = context.now - config.stats.recent;
  const RecentCount recent_conversations =
    count_recent(store, conversations.table, conversations.time_column, conversations.id_column,
                 conversations.time_format, since, context.now, "tasks.conversations");
  const RecentCount recent_messages = count_recent(store, messages.table, messages.time_column, messages.id_column,
                                                   messages.time_format, since, context.now, "tasks.messages");
  for (const RecentCount* count : {&recent_conversations, &recent_messages}) {
    if (!count->first_problem.empty()) {
      context.log.warning("stats: {} value{} that {} no plausible time, counted as unparseable; the first: {}",
                          with_thousands(count->unparseable), count->unparseable == 1 ? "" : "s",
                          count->unparseable == 1 ? "is" : "are", count->first_problem);
    }
  }
  result.stats = {
    {"total_users", count_in_stretches(store, RowSet{users.table, {}}, users.id_column)},
    {"active_users", count_in_stretches(store, RowSet{users.table, {IsTrue{users.active_column}}}, users.id_column)},
    {"total_conversations", count_in_stretches(store, RowSet{conversations.table, {}}, conversations.id_column)},
    {"total_messages", count_in_stretches(store, RowSet{messages.table, {}}, messages.id_column)},
    {"recent_conversations_" + window, recent_conversations.recent},
    {"recent_messages_" + window, recent_messages.recent},
    {"unparseable_times", recent_conversations.unparseable + recent_messages.unparseable},
  };
}

// [tasks.NAME] kind = "expired": rows whose expiry column lies before now. Expiries
// legitimately lie years ahead, so only values beyond a century count as implausible.
void run_expired(TaskContext& context, TaskResult& result)
{
  const CustomTask& c = *context.custom;
  PurgePolicy policy;
  policy.task = "tasks." + c.name;
  policy.name = c.name;
  policy.table = c.table;
  policy.id_column = c.id_column;
  policy.age = AgeLimit{c.expires_column, c.time_format, context.now, std::chrono::hours(24 * 366 * 100)};
  policy.children = cascade_from(context.config, c.table);
  policy.referenced = c.referenced;
  purge(context, policy, result);
}

// [tasks.NAME] kind = "exec": a command with a timeout, skipped when what it needs is unset.
void run_exec(TaskContext& context, TaskResult& result)
{
  const CustomTask& c = *context.custom;
  std::vector<std::string> missing;
  for (const auto& name : c.only_if_env) {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr || *value == '\0') {
      missing.push_back(name);
    }
  }
  if (!missing.empty()) {
    result.status = TaskStatus::skipped;
    result.reason = fmt::format("{} not set (only_if_env)", fmt::join(missing, ", "));
    return;
  }
  const std::vector<std::string> argv =
    c.shell ? std::vector<std::string>{"/bin/sh", "-c", c.command.front()} : c.command;
  if (context.options.dry_run) {
    context.log.info("{}: dry run: would run {}", c.name, fmt::join(c.command, " "));
    return;
  }
  std::vector<std::string> names{"PATH", "HOME", "LANG", "TZ"};
  names.insert(names.end(), c.env.begin(), c.env.end());
  const ProcessResult ran = run_process(argv, pass_environment(names), c.timeout, true);
  result.output = ran.output_tail;
  result.stats = {{"exit_status", ran.status}};
  std::string last_line = ran.output_tail;
  while (!last_line.empty() && (last_line.back() == '\n' || last_line.back() == '\r')) {
    last_line.pop_back();
  }
  if (const auto newline = last_line.rfind('\n'); newline != std::string::npos) {
    last_line = last_line.substr(newline + 1);
  }
  if (ran.timed_out) {
    throw Stopped(StopReason::timed_out,
                  fmt::format("{}: '{}' was still running after {}; killed with its process group", c.name,
                              c.command.front(), format_duration(c.timeout)));
  }
  if (ran.status == 127 || ran.status < 0) {
    throw TaskError(
      fmt::format("{}: cannot run '{}'{}", c.name, c.command.front(), last_line.empty() ? "" : ": " + last_line),
      "check the command's path and permissions in tasks." + c.name + ".command");
  }
  if (ran.status != 0) {
    throw TaskError(fmt::format("{}: '{}' exited {}{}", c.name, c.command.front(), ran.status,
                                last_line.empty() ? "" : ": " + last_line),
                    "its output's last lines are in the run record (housekeep history)");
  }
}

// [tasks.NAME] kind = "vacuum": reclaim space after large purges, reporting the size before
// and after. "full" rebuilds the file and holds the write lock meanwhile: schedule it quiet.
void run_vacuum(TaskContext& context, TaskResult& result)
{
  const CustomTask& c = *context.custom;
  Maintenance& engine = context.store.require_maintenance("vacuum");
  const std::int64_t before = engine.size_bytes();
  if (context.options.dry_run) {
    // Debug: the guards' count before a real run passes here too.
    context.log.debug("{}: would run {} on {} ({} bytes)", c.name, c.mode, context.store.describe(),
                      with_thousands(before));
    result.stats = {{"bytes_before", before}, {"bytes_after", before}};
    return;
  }
  if (!engine.vacuum(c.mode)) {
    context.log.notice("{}: incremental vacuum does nothing here: the database's auto_vacuum is not "
                       "INCREMENTAL (use mode = \"full\", or set it with VACUUM once)",
                       c.name);
  }
  const std::int64_t after = engine.size_bytes();
  result.stats = {{"bytes_before", before}, {"bytes_after", after}};
}

struct Builtin {
  std::string_view name;
  std::string_view summary;
  bool writes;
  TaskFn run;
  bool (*allow_empty)(const Config& config);
  std::vector<std::string> (*tables)(const Config& config);
};

constexpr auto k_never_empties = [](const Config&) { return false; };

constexpr std::array<Builtin, 4> k_builtins{{
  {"conversations", "delete conversations older than older_than (30d), with their messages", true, &run_conversations,
   [](const Config& c) { return c.conversations.allow_empty; },
   [](const Config& c) { return std::vector<std::string>{c.conversations.table}; }},
  {"messages", "delete messages whose conversation is NULL or missing", true, &run_messages,
   [](const Config& c) { return c.messages.allow_empty; },
   [](const Config& c) { return std::vector<std::string>{c.messages.table}; }},
  {"users", "delete never-activated users older than older_than (7d), with what they own", true, &run_users,
   [](const Config& c) { return c.users.allow_empty; },
   [](const Config& c) { return std::vector<std::string>{c.users.table}; }},
  {"stats", "count users (total, active), conversations and messages, and the recent ones", false, &run_stats,
   k_never_empties,
   [](const Config& c) {
     return std::vector<std::string>{c.users.table, c.conversations.table, c.messages.table};
   }},
}};

struct Kind {
  std::string_view kind;
  std::string_view summary;
  bool writes;
  TaskFn run;
};

constexpr std::array<Kind, 5> k_kinds{{
  {"expired", "delete rows whose expiry lies in the past, with their children", true, &run_expired},
  {"exec", "run a command with a timeout", false, &run_exec},
  {"files", "delete files older than older_than under a directory", false, &run_files},
  {"backup", "copy the database online into a directory, verified, and prune old copies", false, &run_backup},
  {"vacuum", "reclaim free space (full, incremental) or refresh statistics (optimize)", true, &run_vacuum},
}};

} // namespace

std::string_view task_status_name(TaskStatus status)
{
  switch (status) {
  case TaskStatus::ok: return "ok";
  case TaskStatus::failed: return "failed";
  case TaskStatus::refused: return "refused";
  case TaskStatus::skipped: return "skipped";
  case TaskStatus::interrupted: return "interrupted";
  case TaskStatus::timed_out: return "timed-out";
  case TaskStatus::transient: return "transient";
  }
  return "failed";
}

void TaskResult::add_deleted(const std::string& table, std::int64_t rows)
{
  for (auto& [name, count] : deleted) {
    if (name == table) {
      count += rows;
      return;
    }
  }
  deleted.emplace_back(table, rows);
}

void TaskResult::add_kept(const KeptRows& more)
{
  const auto key = [](const KeptRows& k) { return std::tie(k.table, k.through, k.referenced_by); };
  const auto at = std::lower_bound(kept.begin(), kept.end(), more,
                                   [&](const KeptRows& a, const KeptRows& b) { return key(a) < key(b); });
  if (at != kept.end() && key(*at) == key(more)) {
    at->rows += more.rows;
  } else {
    kept.insert(at, more);
  }
}

std::int64_t TaskResult::total_deleted() const
{
  std::int64_t total = 0;
  for (const auto& [name, count] : deleted) {
    total += count;
  }
  return total;
}

std::vector<TaskDef> task_table(const Config& config)
{
  std::vector<TaskDef> table;
  for (const auto& b : k_builtins) {
    table.push_back(
      {std::string(b.name), std::string(b.summary), b.writes, b.run, nullptr, b.allow_empty(config), b.tables(config)});
  }
  for (const auto& custom : config.custom_tasks) {
    for (const auto& k : k_kinds) {
      if (k.kind == custom.kind) {
        // Of the configured kinds, only `expired` works on a table of the database.
        table.push_back(
          {custom.name, fmt::format("{} ({})", k.summary, k.kind), k.writes, k.run, &custom, custom.allow_empty,
           custom.kind == "expired" ? std::vector<std::string>{custom.table} : std::vector<std::string>{}});
      }
    }
  }
  return table;
}

std::vector<std::string> task_names(const Config& config)
{
  std::vector<std::string> names;
  for (const auto& task : task_table(config)) {
    names.push_back(task.name);
  }
  names.emplace_back("all");
  return names;
}

bool is_known_task(const Config& config, std::string_view name)
{
  const auto names = task_names(config);
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::vector<TaskDef> resolve_tasks(const Config& config, const std::vector<std::string>& names)
{
  const auto known = task_names(config);
  if (names.empty()) {
    throw UsageError("no task given", fmt::format("use --task NAME, one of: {}", fmt::join(known, ", ")));
  }
  std::vector<std::string> wanted;
  auto want = [&](const std::string& name) {
    if (std::find(wanted.begin(), wanted.end(), name) == wanted.end()) {
      wanted.push_back(name);
    }
  };
  for (const auto& name : names) {
    if (!is_known_task(config, name)) {
      std::vector<std::string_view> views(known.begin(), known.end());
      const std::string guess = closest_match(name, views);
      throw UsageError(fmt::format("unknown task '{}'", name),
                       guess.empty() ? fmt::format("known tasks: {}", fmt::join(known, ", "))
                                     : fmt::format("did you mean '{}'?", guess));
    }
    if (name == "all") {
      for (const auto& member : config.all) {
        want(member);
      }
    } else {
      want(name);
    }
  }
  // In the order of `all`, then of the table: orphans are counted after the purge of old
  // conversations whatever order --task names them in.
  const auto table = task_table(config);
  auto position = [&](const std::string& name) {
    const auto in_all = std::find(config.all.begin(), config.all.end(), name);
    if (in_all != config.all.end()) {
      return static_cast<std::size_t>(in_all - config.all.begin());
    }
    const auto in_table = std::find_if(table.begin(), table.end(), [&](const TaskDef& t) { return t.name == name; });
    return config.all.size() + static_cast<std::size_t>(in_table - table.begin());
  };
  std::stable_sort(wanted.begin(), wanted.end(),
                   [&](const std::string& a, const std::string& b) { return position(a) < position(b); });
  std::vector<TaskDef> out;
  for (const auto& name : wanted) {
    out.push_back(*std::find_if(table.begin(), table.end(), [&](const TaskDef& t) { return t.name == name; }));
  }
  return out;
}

} // namespace housekeep
