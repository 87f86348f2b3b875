// kind = "expired": rows whose expiry column lies before now, with their children. Expiries
// legitimately lie years ahead, so only values beyond a century count as implausible.
#include "housekeep/purge.hpp"
#include "housekeep/task_kind.hpp"

namespace housekeep {

namespace {

void run_expired(TaskContext& context, TaskResult& result)
{
  const TaskConfig& t = *context.task;
  PurgePolicy policy = purge_policy(context);
  policy.age = AgeLimit{t.text("expires_column"), time_settings(t), context.now, std::chrono::hours(24 * 366 * 100)};
  purge(context, policy, result);
}

} // namespace

const TaskKind& expired_kind()
{
  static const TaskKind kind{"expired",
                             "delete rows whose expiry lies in the past, with their children",
                             true,
                             &run_expired,
                             purge_keys({{"expires_column", KeyType::identifier, std::string("expires_at")},
                                         {"time_format", KeyType::time_format, TimeFormat::auto_detect},
                                         {"time_zone", KeyType::zone, std::string()}}),
                             &purge_tables};
  return kind;
}

} // namespace housekeep
