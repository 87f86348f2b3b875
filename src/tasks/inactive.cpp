// kind = "inactive": never-activated rows (a false flag) older than older_than, with what
// they own (the built-in `users`). --older-than overrides older_than for a run.
#include "housekeep/purge.hpp"
#include "housekeep/task_kind.hpp"

namespace housekeep {

namespace {

void run_inactive(TaskContext& context, TaskResult& result)
{
  const TaskConfig& t = *context.task;
  PurgePolicy policy = purge_policy(context);
  policy.where.emplace_back(IsFalse{t.text("active_column")});
  policy.age = retention(context);
  purge(context, policy, result);
}

} // namespace

const TaskKind& inactive_kind()
{
  static const TaskKind kind{
    "inactive",
    "delete never-activated rows older than older_than, with what they own",
    true,
    &run_inactive,
    purge_keys({{"time_column", KeyType::identifier, std::string("date_joined")},
                {"time_format", KeyType::time_format, TimeFormat::auto_detect},
                {"time_zone", KeyType::zone, std::string()},
                {"active_column", KeyType::identifier, std::string("is_active")},
                {"older_than", KeyType::duration, Duration{std::chrono::hours(24 * 7), "7d"}}}),
    &purge_tables};
  return kind;
}

} // namespace housekeep
