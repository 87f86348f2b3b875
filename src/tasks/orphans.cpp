// kind = "orphans": rows whose reference to a parent is NULL or names no parent row, with
// their children (the built-in `messages`). Its time column is read by stats alone.
#include "housekeep/purge.hpp"
#include "housekeep/task_kind.hpp"

namespace housekeep {

namespace {

void run_orphans(TaskContext& context, TaskResult& result)
{
  const TaskConfig& t = *context.task;
  PurgePolicy policy = purge_policy(context);
  policy.where.emplace_back(Orphan{t.text("foreign_key"), t.text("parent"), t.text("parent_id_column")});
  purge(context, policy, result);
}

} // namespace

const TaskKind& orphans_kind()
{
  static const TaskKind kind{"orphans",
                             "delete rows whose parent is NULL or missing, with their children",
                             true,
                             &run_orphans,
                             purge_keys({{"foreign_key", KeyType::identifier, std::string(), true},
                                         {"parent", KeyType::identifier, std::string(), true},
                                         {"parent_id_column", KeyType::identifier, std::string("id")},
                                         {"time_column", KeyType::identifier, std::string("created_at")},
                                         {"time_format", KeyType::time_format, TimeFormat::auto_detect},
                                         {"time_zone", KeyType::zone, std::string()}}),
                             &purge_tables};
  return kind;
}

} // namespace housekeep
