// The task table and the task functions. Each function holds only its policy; the purge
// engine and run_tasks() do the rest.
#include "housekeep/duration.hpp"
#include "housekeep/error.hpp"
#include "housekeep/purge.hpp"
#include "housekeep/task.hpp"
#include "housekeep/text.hpp"
#include "housekeep/time_column.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

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
  policy.age = AgeLimit{c.time_column, c.time_format,
                        context.now - context.options.older_than.value_or(c.older_than)};
  policy.children = cascade_from(context.config, c.table);
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
  policy.age = AgeLimit{c.time_column, c.time_format,
                        context.now - context.options.older_than.value_or(c.older_than)};
  policy.children = cascade_from(context.config, c.table);
  purge(context, policy, result);
}

std::int64_t count_recent(TaskContext& context, const std::string& table, const std::string& column,
                          TimeFormat format, std::string_view what)
{
  const auto encoding =
    detect_time_encoding(context.store, table, column, format, context.now, what);
  if (!encoding) {
    return 0;
  }
  const Value since = encoding->encode(context.now - context.config.stats.recent);
  return context.store.count(RowSet{table, {AtOrAfter{column, since}}});
}

void run_stats(TaskContext& context, TaskResult& result)
{
  const Config& config = context.config;
  Store& store = context.store;
  require_columns(store, config.users.table, {config.users.active_column}, "tasks.users");
  require_columns(store, config.conversations.table, {config.conversations.time_column},
                  "tasks.conversations");
  require_columns(store, config.messages.table, {config.messages.time_column}, "tasks.messages");

  const std::string window = format_duration(config.stats.recent);
  result.stats = {
    {"total_users", store.count(RowSet{config.users.table, {}})},
    {"active_users", store.count(RowSet{config.users.table, {IsTrue{config.users.active_column}}})},
    {"total_conversations", store.count(RowSet{config.conversations.table, {}})},
    {"total_messages", store.count(RowSet{config.messages.table, {}})},
    {"recent_conversations_" + window,
     count_recent(context, config.conversations.table, config.conversations.time_column,
                  config.conversations.time_format, "tasks.conversations")},
    {"recent_messages_" + window,
     count_recent(context, config.messages.table, config.messages.time_column,
                  config.messages.time_format, "tasks.messages")},
  };
}

constexpr std::array<TaskDef, 4> k_tasks{{
  {"conversations", "delete conversations older than older_than (30d), with their messages", true,
   &run_conversations},
  {"messages", "delete messages whose conversation is NULL or missing", true, &run_messages},
  {"users", "delete never-activated users older than older_than (7d), with what they own", true,
   &run_users},
  {"stats", "count users (total, active), conversations and messages, and the recent ones", false,
   &run_stats},
}};

constexpr std::array<std::string_view, 5> k_task_names{"conversations", "messages", "users", "stats",
                                                       "all"};

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

std::span<const TaskDef> task_table()
{
  return k_tasks;
}

std::span<const std::string_view> task_names()
{
  static_assert(k_task_names.size() == k_tasks.size() + 1);
  return k_task_names;
}

bool is_known_task(std::string_view name)
{
  return std::find(k_task_names.begin(), k_task_names.end(), name) != k_task_names.end();
}

std::vector<const TaskDef*> resolve_tasks(const std::vector<std::string>& names)
{
  if (names.empty()) {
    throw UsageError("no task given", fmt::format("use --task NAME, one of: {}",
                                                  fmt::join(k_task_names, ", ")));
  }
  std::vector<bool> wanted(k_tasks.size(), false);
  for (const auto& name : names) {
    if (!is_known_task(name)) {
      const std::string guess = closest_match(name, k_task_names);
      throw UsageError(fmt::format("unknown task '{}'", name),
                       guess.empty() ? fmt::format("known tasks: {}", fmt::join(k_task_names, ", "))
                                     : fmt::format("did you mean '{}'?", guess));
    }
    for (std::size_t i = 0; i < k_tasks.size(); ++i) {
      if (name == "all" || k_tasks[i].name == name) {
        wanted[i] = true;
      }
    }
  }
  std::vector<const TaskDef*> out;
  for (std::size_t i = 0; i < k_tasks.size(); ++i) {
    if (wanted[i]) {
      out.push_back(&k_tasks[i]);
    }
  }
  return out;
}

} // namespace housekeep
