#include "housekeep/run.hpp"
#include "housekeep/history.hpp"

#include "housekeep/duration.hpp"
#include "housekeep/error.hpp"
#include "housekeep/purge.hpp"
#include "housekeep/text.hpp"

#include <fmt/format.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <map>

namespace housekeep {

namespace {

// A task's settings in the configuration the run was given (the one its cascade and guards
// read too), whichever configuration the task was resolved from.
const TaskConfig* settings_of(const Config& config, const TaskDef& task)
{
  const TaskConfig* found = find_task(config, task.name);
  return found != nullptr ? found : task.config;
}

} // namespace

namespace {

std::string task_list(const RunRequest& request)
{
  std::vector<std::string_view> names;
  for (const auto& task : request.tasks) {
    names.push_back(task.name);
  }
  return fmt::format("{}", fmt::join(names, ","));
}

} // namespace

std::unique_ptr<Lock> acquire_purge_lock(Store& store, const std::string& what, std::optional<Millis> wait,
                                         const StopFlag* stop, const Clock& clock, const Logger& log)
{
  const LockHolder me{static_cast<std::int64_t>(::getpid()), this_host(), what, format_utc(clock.now())};
  const TimePoint deadline = wait ? clock.now() + *wait : clock.now();
  bool announced = false;
  while (true) {
    LockAttempt attempt = store.try_lock(me, LockScope::purge);
    if (attempt.lock) {
      if (attempt.stale) {
        log.warning("took over the purge lock of pid {} on {} (since {}), which ended without releasing it",
                    attempt.stale->pid, attempt.stale->host, attempt.stale->since);
      }
      return std::move(attempt.lock);
    }
    const LockHolder holder = attempt.holder.value_or(LockHolder{});
    const std::string who =
      holder.pid == 0 ? std::string("another housekeep process")
                      : fmt::format("pid {} on {} ({}, since {})", holder.pid, holder.host, holder.what, holder.since);
    if (stop != nullptr && stop->requested()) {
      throw TempFailError(
        fmt::format("stopped while waiting for the purge lock of '{}', held by {}", store.describe(), who));
    }
    if (clock.now() >= deadline) {
      throw TempFailError(fmt::format("database '{}' is busy: {} holds the purge lock", store.describe(), who),
                          wait ? "it did not finish within --wait; try again later"
                               : "try again later, or pass --wait[=DURATION] to wait "
                                 "for it");
    }
    if (!announced) {
      log.notice("waiting for the purge lock held by {}", who);
      announced = true;
    }
    clock.sleep_for(std::chrono::milliseconds(200));
  }
}

namespace {

std::string summary_line(const TaskResult& result)
{
  if (!result.stats.empty()) {
    std::vector<std::string> parts;
    for (const auto& [name, value] : result.stats) {
      parts.push_back(fmt::format("{}={}", name, value));
    }
    return fmt::format("{}", fmt::join(parts, " "));
  }
  std::vector<std::string> parts;
  for (const auto& [table, rows] : result.deleted) {
    parts.push_back(fmt::format("{} {}", with_thousands(rows), table));
  }
  return parts.empty() ? std::string("nothing") : fmt::format("{}", fmt::join(parts, ", "));
}

// A damaged database is never written to: the tables the run deletes from, with their
// indexes, are checked before its first delete (a full check reads every table, and in
// rollback-journal mode one long read keeps the application's writers from committing).
void check_not_damaged(Store& store, const std::vector<std::string>& tables, const Logger& log)
{
  Maintenance* engine = store.maintenance();
  if (engine == nullptr) {
    return; // an engine without a quick check finds damage itself, when it reads
  }
  for (const auto& table : tables) {
    const auto started = std::chrono::steady_clock::now();
    const std::string problem = engine->quick_check(table);
    if (problem.empty()) {
      return; // the engine has no quick check
    }
    log.debug("quick check of '{}': {} in {}", table, problem,
              humanize_duration(
                std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)));
    if (problem != "ok") {
      throw DataError(fmt::format("database '{}' is damaged: table '{}' (or an index of it): {}; nothing was "
                                  "deleted",
                                  store.describe(), table, problem),
                      fmt::format("restore it from a backup or {}; housekeep does not write to a damaged database",
                                  engine->repair_hint()));
    }
  }
}

// A database that has none of the tables the run's tasks work on, and no history of
// housekeep, is the wrong database (an empty file, another application's, /dev/null): one
// error before anything is written, not one per task and a housekeep_runs table created in a
// file that was never housekeep's to change. Where housekeep has run before, each task
// reports its own missing table and the failure is recorded as usual.
void check_right_database(Store& store, const std::vector<TaskDef>& tasks)
{
  std::vector<std::pair<std::string, const TaskDef*>> wanted; // each table, with its first task
  for (const TaskDef& task : tasks) {
    for (const auto& table : task.tables) {
      if (std::none_of(wanted.begin(), wanted.end(), [&](const auto& w) { return w.first == table; })) {
        wanted.emplace_back(table, &task);
      }
    }
  }
  if (wanted.empty() || store.columns("housekeep_runs") ||
      std::any_of(wanted.begin(), wanted.end(), [&](const auto& w) { return store.columns(w.first).has_value(); })) {
    return;
  }
  if (wanted.size() == 1) {
    // One table: the task's own message, with its did-you-mean.
    require_columns(store, wanted.front().first, {}, fmt::format("tasks.{}", wanted.front().second->name));
  }
  std::vector<std::string> names;
  for (const auto& w : wanted) {
    names.push_back(w.first);
  }
  throw DataError(fmt::format("database '{}' has none of the tables this run works on ({}): is it the right "
                              "database?",
                              store.describe(), fmt::join(names, ", ")),
                  "check --db (or HOUSEKEEP_DATABASE_URL, database.url) and the table names under [tasks.*]; "
                  "nothing was written");
}

// The guards of a real run, checked before its first delete: plans what every writing task
// would delete (as a dry run does, cascades included), then refuses a total above
// max_delete, or a table that would lose every one of its rows. Counting the rows to delete
// is a walk of all of them (seconds at a million rows, while the application waits on each
// stretch's read), so it is done only when a figure needs it: max_delete, or the progress
// line's estimate. Between planning and the guards, the tables the plan deletes from are
// checked for damage. Returns the rows each task is expected to delete, when counted.
std::map<std::string, std::int64_t> check_guards(Store& store, const Config& config, const RunRequest& request,
                                                 const Clock& clock, const Logger& log)
{
  std::map<std::string, std::int64_t> expected;
  const std::int64_t max_delete = request.options.max_delete.value_or(config.defaults.max_delete);
  PlannedDeletions planned;
  planned.count = max_delete > 0 || request.progress != nullptr;
  planned.check = false;
  RunOptions counting = request.options;
  counting.dry_run = true;
  TaskResult totals;                   // rows per table over every task, in first-seen order
  std::map<std::string, bool> guarded; // tables some task without allow_empty deletes from
  for (const TaskDef& task : request.tasks) {
    if (!task.writes) {
      continue;
    }
    TaskResult result;
    TaskContext context{store, config, counting, clock, clock.now(), log, &planned};
    context.task = settings_of(config, task);
    try {
      task.run(context, result);
    } catch (const Error&) {
      continue; // the task fails the same way when it runs, and is reported there
    }
    for (const auto& [table, rows] : result.deleted) {
      totals.add_deleted(table, rows);
      guarded[table] = guarded[table] || !task.allow_empty;
    }
    if (planned.count) {
      expected[std::string(task.name)] += result.total_deleted();
    }
  }
  std::vector<std::string> touched;
  for (const auto& entry : planned.entries) {
    if (std::find(touched.begin(), touched.end(), entry.rows->table) == touched.end()) {
      touched.push_back(entry.rows->table);
    }
  }
  check_not_damaged(store, touched, log);
  const std::int64_t total = totals.total_deleted();
  if (max_delete > 0 && total > max_delete) {
    throw RefusedError(fmt::format("refused: this run would delete {} rows ({}), more than max_delete {}; "
                                   "nothing was deleted",
                                   with_thousands(total), summary_line(totals), with_thousands(max_delete)),
                       "check the policy with --dry-run; raise --max-delete (or defaults.max_delete) if "
                       "this is intended");
  }
  const auto job = std::find_if(config.jobs.begin(), config.jobs.end(),
                                [&](const JobConfig& j) { return !request.job.empty() && j.name == request.job; });
  if (request.options.allow_empty || (job != config.jobs.end() && job->allow_empty)) {
    return expected;
  }
  for (const auto& deleted : totals.deleted) { // every table, counted or not
    const std::string& table = deleted.first;
    if (guarded[table] && would_empty(store, table, planned)) {
      throw RefusedError(fmt::format("refused: this run would delete every row of '{}' ({} rows); nothing "
                                     "was deleted",
                                     table, with_thousands(store.count(RowSet{table, {}}))),
                         request.job.empty()
                           ? "check older_than and time_format with --dry-run; pass --allow-empty if emptying "
                             "the table is intended"
                           : fmt::format("check older_than and time_format with --dry-run; set allow_empty = true "
                                         "in [jobs.{}] (or in the task's section) if emptying the table is intended",
                                         request.job));
    }
  }
  return expected;
}

} // namespace

std::string this_host()
{
  char buffer[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buffer, sizeof buffer - 1) != 0) {
    return "unknown";
  }
  return buffer;
}

bool process_gone(const std::string& host, std::int64_t pid)
{
  if (host != this_host() || pid <= 0 || pid == static_cast<std::int64_t>(::getpid())) {
    return false;
  }
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

bool run_abandoned(const RunRecord& run)
{
  return run.status == RunStatus::running && process_gone(run.host, run.pid);
}

std::int64_t mark_abandoned(Store& store, const Clock& clock, const Logger& log)
{
  std::int64_t marked = 0;
  for (RunRecord run :
       store.history().runs(RunQuery{.limit = 1000, .task = "", .job = "", .status = RunStatus::running})) {
    if (!run_abandoned(run)) {
      continue;
    }
    run.status = RunStatus::abandoned;
    run.finished_at = clock.now();
    run.error = fmt::format("process {} on {} ended without finishing the run (killed or crashed); noticed at {}",
                            run.pid, run.host, format_utc(run.finished_at));
    store.history().record_run(run);
    log.warning("{}: the run started at {} by pid {} was abandoned (its process is gone); marked so in "
                "housekeep_runs",
                run.task, format_utc(run.started_at), run.pid);
    ++marked;
  }
  return marked;
}

bool RunReport::ok() const
{
  return first_failure() == nullptr;
}

RunStatus RunReport::status() const
{
  for (const auto& task : tasks) {
    if (task.status != TaskStatus::ok) {
      return recorded_status(task.status);
    }
  }
  return RunStatus::ok;
}

const TaskResult* RunReport::first_failure() const
{
  for (const auto& task : tasks) {
    if (task.status != TaskStatus::ok && task.status != TaskStatus::skipped) {
      return &task;
    }
  }
  return nullptr;
}

TaskStatus status_for(ExitCode code)
{
  switch (code) {
  case ExitCode::refused: return TaskStatus::refused;
  case ExitCode::temp_fail:
  case ExitCode::unavailable: return TaskStatus::transient;
  default: return TaskStatus::failed;
  }
}

namespace {

// What a run holds from its start to its end: the purge lock, the archive, what the guards
// expect each task to delete, whether it is recorded, and when it must stop.
struct RunSetup {
  std::unique_ptr<Lock> lock;
  std::unique_ptr<ArchiveWriter> archive;
  std::map<std::string, std::int64_t> expected;
  bool record = false;
  std::optional<TimePoint> deadline;
};

// The first part of a run: everything checked or taken before the first task starts. Throws
// when the run cannot start (nothing is recorded then).
RunSetup prepare_run(Store& store, const Config& config, const RunRequest& request, TimePoint started,
                     const Clock& clock, const Logger& log)
{
  RunSetup setup;
  const bool writes = !request.options.dry_run && std::any_of(request.tasks.begin(), request.tasks.end(),
                                                              [](const TaskDef& task) { return task.writes; });
  if (writes && store.read_only()) {
    throw PermissionError(fmt::format("database '{}' is read-only; a real run needs write access", store.describe()),
                          "check the file's permissions, or use --dry-run to see what would go");
  }
  check_right_database(store, request.tasks);
  if (!request.archive_dir.empty()) {
    if (writes) {
      setup.archive = std::make_unique<ArchiveWriter>(request.archive_dir, store.describe(), started);
    } else {
      log.notice("--archive: nothing is deleted by this run, so nothing is archived");
    }
  }
  if (writes) {
    setup.lock = acquire_purge_lock(store, fmt::format("run --task {}", task_list(request)), request.lock_wait,
                                    request.stop, clock, log);
    setup.expected = check_guards(store, config, request, clock, log);
  }
  setup.record = !request.options.dry_run && !store.read_only();
  if (!request.options.dry_run && store.read_only()) {
    log.notice("database '{}' is read-only; this run is not recorded in housekeep_runs", store.describe());
  }
  if (setup.record) {
    try {
      mark_abandoned(store, clock, log);
    } catch (const Error& e) {
      log.warning("could not check housekeep_runs for abandoned runs: {}", e.what());
    }
  }
  if (request.options.timeout) {
    setup.deadline = started + *request.options.timeout;
  }
  return setup;
}

// The line a finished task logs: what it did, or why it did not.
void log_outcome(const TaskDef& task, const TaskResult& result, const RunRequest& request, const Logger& task_log)
{
  if (result.status == TaskStatus::ok) {
    if (!task_log.enabled(request.summary_level)) {
      return;
    }
    const char* verb = !task.writes ? "" : request.options.dry_run ? "would delete " : "deleted ";
    std::string batches;
    if (task.writes && !request.options.dry_run && result.batches > 0) {
      batches = fmt::format(" ({} {}, slowest {}, {} waiting for the write lock)", with_thousands(result.batches),
                            result.batches == 1 ? "batch" : "batches", humanize_duration(result.slowest_batch),
                            humanize_duration(result.lock_wait));
    }
    task_log.log(request.summary_level,
                 fmt::format("{}: {}{} in {}{}", task.name, verb, summary_line(result),
                             humanize_duration(result.duration), batches),
                 {.rows = task.writes ? std::optional(result.total_deleted()) : std::nullopt,
                  .duration_ms = result.duration.count(),
                  .status = "ok"});
    if (!result.phases.empty()) {
      task_log.debug("{}: time by phase: {}", task.name, describe_phases(result.phases));
    }
  } else if (result.status == TaskStatus::skipped) {
    // Not a failure: cron mails nothing.
    task_log.log(LogLevel::info, fmt::format("{}: skipped: {}", task.name, result.reason), {.status = "skipped"});
  } else {
    task_log.log(LogLevel::error, result.error,
                 {.duration_ms = result.duration.count(),
                  .status = std::string(task_status_name(result.status)),
                  .code = static_cast<int>(result.code)});
    if (!result.hint.empty()) {
      task_log.hint(result.hint);
    }
  }
}

// The second part: one task, its errors turned into its status; never throws.
// `later_purges`: a later task of the run deletes rows too.
TaskResult run_task(const TaskDef& task, bool later_purges, Store& store, const Config& config,
                    const RunRequest& request, RunSetup& setup, PlannedDeletions& planned, TimePoint started,
                    const Clock& clock, const Logger& task_log)
{
  TaskResult result;
  result.task = std::string(task.name);
  TaskContext context{store,
                      config,
                      request.options,
                      clock,
                      started,
                      task_log,
                      request.options.dry_run ? &planned : nullptr,
                      request.stop,
                      setup.deadline,
                      setup.archive.get(),
                      request.progress};
  context.task = settings_of(config, task);
  context.later_purges = later_purges;
  if (const auto it = setup.expected.find(result.task); it != setup.expected.end()) {
    context.expected_rows = it->second;
  }
  task_log.debug("{}: started{}", task.name, request.options.dry_run ? " (dry run)" : "");
  try {
    if (const StopReason reason = context.stop_reason(); reason != StopReason::none) {
      throw Stopped(reason, fmt::format("{}: not started: the run {}", task.name,
                                        reason == StopReason::timed_out ? "timed out" : "was interrupted"));
    }
    task.run(context, result);
  } catch (const Stopped& e) {
    result.status = e.reason() == StopReason::timed_out ? TaskStatus::timed_out : TaskStatus::interrupted;
    result.code = e.code();
    result.error = e.what();
    result.hint = e.hint();
  } catch (const Error& e) {
    result.status = status_for(e.code());
    result.code = e.code();
    result.error = e.what();
    result.hint = e.hint();
  } catch (const std::exception& e) {
    result.status = TaskStatus::failed;
    result.code = ExitCode::internal;
    result.error = fmt::format("internal error in task '{}': {}", task.name, e.what());
    result.hint = "this is a bug in housekeep; please report it with the command line used";
  }
  result.duration = clock.now() - started;
  if (request.progress != nullptr) {
    request.progress->finish(task.name);
  }
  log_outcome(task, result, request, task_log);
  return result;
}

// The third part, around each task: a row written as it starts, so that a kill leaves a trace
// (marked abandoned later), completed when it ends. A history that cannot be written is
// reported in the run's report, never turned into the task's failure.
class TaskRecord {
public:
  TaskRecord(Store& store, const RunRequest& request, const std::string& task, TimePoint started, bool record,
             RunReport& report, const Logger& log)
      : m_store(store), m_record(record), m_report(report), m_log(log)
  {
    m_run.job = request.job;
    m_run.trigger = request.trigger;
    m_run.task = task;
    m_run.started_at = started;
    m_run.finished_at = started;
    m_run.status = RunStatus::running;
    m_run.host = this_host();
    m_run.pid = static_cast<std::int64_t>(::getpid());
    write("start of");
  }

  void finish(const TaskResult& result)
  {
    m_run.finished_at = m_run.started_at + result.duration;
    m_run.status = recorded_status(result.status);
    for (const auto& [table, rows] : result.deleted) {
      m_run.deleted[table] = rows;
    }
    m_run.kept = result.kept;
    m_run.error = result.status == TaskStatus::skipped ? result.reason : result.error;
    m_run.output = result.output;
    m_run.stats = result.stats;
    write("run of");
  }

private:
  void write(std::string_view what)
  {
    if (!m_record) {
      return;
    }
    try {
      const std::int64_t id = m_store.history().record_run(m_run);
      m_run.id = m_run.id == 0 ? id : m_run.id;
    } catch (const Error& e) {
      m_log.warning("could not record the {} '{}': {}", what, m_run.task, e.what());
      m_report.history_error = e.what();
    }
  }

  Store& m_store;
  bool m_record;
  RunReport& m_report;
  const Logger& m_log;
  RunRecord m_run;
};

} // namespace

void record_skipped(Store& store, const RunRequest& request, TimePoint started, const std::string& why,
                    const Clock& clock, const Logger& log)
{
  for (const TaskDef& task : request.tasks) {
    RunRecord run;
    run.job = request.job;
    run.trigger = request.trigger;
    run.task = task.name;
    run.started_at = started;
    run.finished_at = clock.now();
    run.status = RunStatus::skipped;
    run.error = why;
    run.host = this_host();
    run.pid = static_cast<std::int64_t>(::getpid());
    try {
      store.history().record_run(run);
    } catch (const Error& e) {
      log.warning("could not record the skipped run of '{}': {}", run.task, e.what());
    }
  }
}

RunReport run_tasks(Store& store, const Config& config, const RunRequest& request, const Clock& clock,
                    const Logger& log)
{
  RunReport report;
  report.dry_run = request.options.dry_run;
  report.started_at = clock.now();
  RunSetup setup = prepare_run(store, config, request, report.started_at, clock, log);

  PlannedDeletions planned;
  for (auto task = request.tasks.begin(); task != request.tasks.end(); ++task) {
    // Every line logged while the task runs names it (and the job), in JSON logs.
    const Logger task_log = log.with({.task = task->name, .job = request.job});
    const TimePoint started = clock.now();
    TaskRecord record(store, request, task->name, started, setup.record, report, log);
    const bool later_purges =
      std::any_of(std::next(task), request.tasks.end(), [](const TaskDef& later) { return later.writes; });
    TaskResult result = run_task(*task, later_purges, store, config, request, setup, planned, started, clock, task_log);
    record.finish(result);
    report.tasks.push_back(std::move(result));
  }

  if (setup.record) {
    try {
      const auto pruned = store.history().prune_runs(clock.now() - config.defaults.history_keep);
      if (pruned > 0) {
        log.debug("pruned {} runs older than {} from housekeep_runs", pruned,
                  format_duration(config.defaults.history_keep));
      }
    } catch (const Error& e) {
      log.warning("could not prune housekeep_runs: {}", e.what());
    }
  }
  if (setup.archive) {
    report.archives = setup.archive->files();
  }
  report.finished_at = clock.now();
  return report;
}

} // namespace housekeep
