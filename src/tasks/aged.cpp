// kind = "aged": rows older than older_than, with their children (the built-in
// `conversations`). --older-than overrides older_than for a run.
#include "housekeep/purge.hpp"
#include "housekeep/task_kind.hpp"

namespace housekeep {

namespace {

void run_aged(TaskContext& context, TaskResult& result)
{
  PurgePolicy policy = purge_policy(context);
  policy.age = retention(context);
  purge(context, policy, result);
}

} // namespace

const TaskKind& aged_kind()
{
  static const TaskKind kind{
    "aged",
    "delete rows older than older_than, with their children",
    true,
    &run_aged,
    purge_keys({{"time_column", KeyType::identifier, std::string("created_at")},
                {"time_format", KeyType::time_format, TimeFormat::auto_detect},
                {"time_zone", KeyType::zone, std::string()},
                {"older_than", KeyType::duration, Duration{std::chrono::hours(24 * 30), "30d"}}}),
    &purge_tables};
  return kind;
}

} // namespace housekeep
