// kind = "stats": counts of the built-in tasks' tables (users total and active,
// conversations, messages) and of the recent ones, in the keys of SPEC §8. It reads the
// tables and columns the `users`, `conversations` and `messages` tasks are configured with.
#include "housekeep/purge.hpp"
#include "housekeep/task_kind.hpp"
#include "housekeep/text.hpp"
#include "housekeep/time_column.hpp"

namespace housekeep {

namespace {

void run_stats(TaskContext& context, TaskResult& result)
{
  Store& store = context.store;
  const TaskConfig& users = builtin_task(context.config, "users");
  const TaskConfig& conversations = builtin_task(context.config, "conversations");
  const TaskConfig& messages = builtin_task(context.config, "messages");
  const std::string what = context.task->name;
  require_columns(store, users.table(), {users.text("active_column")}, what, "tasks.users");
  require_columns(store, conversations.table(), {conversations.text("time_column")}, what, "tasks.conversations");
  require_columns(store, messages.table(), {messages.text("time_column")}, what, "tasks.messages");

  const std::string window = context.task->duration_text("recent"); // as configured, never rewritten
  // A bad time value never fails the figures: it is counted as unparseable, and named once.
  const TimePoint since = context.now - context.task->duration("recent");
  auto recent = [&](const TaskConfig& task) {
    return count_recent(store, task.table(), task.text("time_column"), task.text("id_column"), time_settings(task),
                        since, context.now, "tasks." + task.name);
  };
  const RecentCount recent_conversations = recent(conversations);
  const RecentCount recent_messages = recent(messages);
  for (const RecentCount* count : {&recent_conversations, &recent_messages}) {
    if (!count->first_problem.empty()) {
      context.log.warning("{}: {} value{} that {} no plausible time, counted as unparseable; the first: {}", what,
                          with_thousands(count->unparseable), count->unparseable == 1 ? "" : "s",
                          count->unparseable == 1 ? "is" : "are", count->first_problem);
    }
  }
  auto total = [&](const TaskConfig& task, std::vector<Condition> where = {}) {
    return count_in_stretches(store, RowSet{task.table(), std::move(where)}, task.text("id_column"));
  };
  result.stats = {
    {"total_users", total(users)},
    {"active_users", total(users, {IsTrue{users.text("active_column")}})},
    {"total_conversations", total(conversations)},
    {"total_messages", total(messages)},
    {"recent_conversations_" + window, recent_conversations.recent},
    {"recent_messages_" + window, recent_messages.recent},
    {"unparseable_times", recent_conversations.unparseable + recent_messages.unparseable},
  };
}

std::vector<std::string> stats_tables(const TaskConfig&, const Config& config)
{
  return {builtin_task(config, "users").table(), builtin_task(config, "conversations").table(),
          builtin_task(config, "messages").table()};
}

} // namespace

const TaskKind& stats_kind()
{
  static const TaskKind kind{
    "stats",    "count users (total, active), conversations and messages, and the recent ones",     false,
    &run_stats, {{"recent", KeyType::duration, Duration{std::chrono::hours(24), "24h"}, false, 1}}, &stats_tables};
  return kind;
}

} // namespace housekeep
