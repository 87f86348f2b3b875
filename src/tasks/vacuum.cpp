// kind = "vacuum": reclaim space after large purges, reporting the size before and after.
// "full" rebuilds the file and holds the write lock meanwhile: schedule it quiet. Offered
// where the database's engine has the maintenance for it.
#include "housekeep/task_kind.hpp"
#include "housekeep/text.hpp"

namespace housekeep {

namespace {

void run_vacuum(TaskContext& context, TaskResult& result)
{
  const TaskConfig& t = *context.task;
  const struct {
    const std::string& name;
    const std::string& mode;
  } c{t.name, t.text("mode")};
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

} // namespace

const TaskKind& vacuum_kind()
{
  static const TaskKind kind{
    "vacuum",
    "reclaim free space (full, incremental) or refresh statistics (optimize)",
    true,
    &run_vacuum,
    {{"mode", KeyType::text, std::string("optimize"), false, 0, 0, {"optimize", "incremental", "full"}}}};
  return kind;
}

} // namespace housekeep
