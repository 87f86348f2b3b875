// The task table and the task functions. Each function holds only its policy; the purge
// engine and run_tasks() do the rest.
#include "housekeep/duration.hpp"
#include "housekeep/error.hpp"
#include "housekeep/process.hpp"
#include "housekeep/purge.hpp"
#include "housekeep/task.hpp"
#include "housekeep/task_kind.hpp"
#include "housekeep/text.hpp"
#include "housekeep/time_column.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <ctime>
#include <tuple>

namespace housekeep {

// The kinds, each defined in its own file of src/tasks/.
const TaskKind& aged_kind();
const TaskKind& orphans_kind();
const TaskKind& inactive_kind();
const TaskKind& stats_kind();
const TaskKind& expired_kind();
const TaskKind& exec_kind();
const TaskKind& files_kind();
const TaskKind& backup_kind();
const TaskKind& vacuum_kind();

const std::vector<const TaskKind*>& task_kinds()
{
  static const std::vector<const TaskKind*> kinds{&aged_kind(),  &orphans_kind(), &inactive_kind(),
                                                  &stats_kind(), &expired_kind(), &exec_kind(),
                                                  &files_kind(), &backup_kind(),  &vacuum_kind()};
  return kinds;
}

const TaskKind* find_kind(std::string_view name)
{
  for (const TaskKind* kind : task_kinds()) {
    if (kind->name == name) {
      return kind;
    }
  }
  return nullptr;
}

TaskConfig task_with_defaults(const TaskKind& kind, std::string name)
{
  TaskConfig task{std::move(name), kind.name, {}};
  for (const auto& key : kind.keys) {
    task.settings.emplace(key.name, key.default_value);
  }
  return task;
}

namespace {

// A built-in task: a row of its kind with its own defaults.
TaskConfig builtin(const TaskKind& kind, std::string name, std::map<std::string, Setting, std::less<>> settings)
{
  TaskConfig task = task_with_defaults(kind, std::move(name));
  for (auto& [key, value] : settings) {
    task.settings.at(key) = std::move(value);
  }
  return task;
}

} // namespace

std::vector<TaskConfig> default_tasks()
{
  return {
    builtin(aged_kind(), "conversations",
            {{"table", std::string("conversations")},
             {"children", std::vector<ChildConfig>{{"messages", "conversation_id", "id"}}}}),
    builtin(orphans_kind(), "messages",
            {{"table", std::string("messages")},
             {"foreign_key", std::string("conversation_id")},
             {"parent", std::string("conversations")}}),
    builtin(
      inactive_kind(), "users",
      {{"table", std::string("users")}, {"children", std::vector<ChildConfig>{{"conversations", "user_id", "id"}}}}),
    builtin(stats_kind(), "stats", {}),
  };
}

bool is_builtin_task(std::string_view name)
{
  static const std::vector<TaskConfig> builtins = default_tasks();
  return std::any_of(builtins.begin(), builtins.end(), [&](const TaskConfig& task) { return task.name == name; });
}

void TaskConfig::missing_setting(std::string_view key) const
{
  throw InternalError(fmt::format("task '{}' of kind '{}' has no setting '{}' of that type", name, kind, key));
}

const std::vector<ChildConfig>& TaskConfig::children() const
{
  static const std::vector<ChildConfig> none;
  return has("children") ? get<std::vector<ChildConfig>>("children") : none;
}

const std::string& TaskConfig::table() const
{
  static const std::string none;
  return has("table") ? text("table") : none;
}

const TaskConfig* find_task(const Config& config, std::string_view name)
{
  for (const auto& task : config.tasks) {
    if (task.name == name) {
      return &task;
    }
  }
  return nullptr;
}

TaskConfig& TaskConfig::set(std::string_view key, Setting value)
{
  const auto found = settings.find(key);
  if (found == settings.end() || found->second.index() != value.index()) {
    missing_setting(key);
  }
  found->second = std::move(value);
  return *this;
}

TaskConfig& builtin_task(Config& config, std::string_view name)
{
  return const_cast<TaskConfig&>(builtin_task(std::as_const(config), name));
}

const TaskConfig& builtin_task(const Config& config, std::string_view name)
{
  const TaskConfig* task = find_task(config, name);
  if (task == nullptr) {
    throw InternalError(fmt::format("the built-in task '{}' is missing from the configuration", name));
  }
  return *task;
}

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

RunStatus recorded_status(TaskStatus status)
{
  return parse_run_status(task_status_name(status)); // the same names
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

void TaskResult::add_phase(std::string_view phase, std::chrono::microseconds wall, std::chrono::microseconds cpu)
{
  for (auto& p : phases) {
    if (p.phase == phase) {
      p.wall += wall;
      p.cpu += cpu;
      return;
    }
  }
  phases.push_back({std::string(phase), wall, cpu});
}

namespace {

std::chrono::nanoseconds thread_cpu_time()
{
  timespec now{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
}

std::string seconds_text(std::chrono::microseconds t)
{
  return fmt::format("{:.2f}s", static_cast<double>(t.count()) / 1e6);
}

} // namespace

PhaseTimer::PhaseTimer(TaskResult& result, std::string_view phase)
    : m_result(result), m_phase(phase), m_wall(std::chrono::steady_clock::now()), m_cpu(thread_cpu_time())
{
}

PhaseTimer::~PhaseTimer()
{
  using std::chrono::duration_cast;
  using std::chrono::microseconds;
  m_result.add_phase(m_phase, duration_cast<microseconds>(std::chrono::steady_clock::now() - m_wall),
                     duration_cast<microseconds>(thread_cpu_time() - m_cpu));
}

std::string describe_phases(const std::vector<PhaseTime>& phases)
{
  std::vector<std::string> parts;
  for (const auto& p : phases) {
    if (p.wall < std::chrono::milliseconds(1)) {
      continue;
    }
    parts.push_back(fmt::format("{} {} (CPU {})", p.phase, seconds_text(p.wall), seconds_text(p.cpu)));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::vector<TaskDef> task_table(const Config& config)
{
  std::vector<TaskDef> table;
  for (const auto& task : config.tasks) {
    const TaskKind* kind = find_kind(task.kind);
    if (kind == nullptr) {
      throw InternalError(fmt::format("task '{}' has the unknown kind '{}'", task.name, task.kind));
    }
    table.push_back({task.name, fmt::format("{} ({})", kind->summary, kind->name), kind->writes, kind->run, &task,
                     task.has("allow_empty") && task.flag("allow_empty"),
                     kind->tables != nullptr ? kind->tables(task, config) : std::vector<std::string>{}});
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
