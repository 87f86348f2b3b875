#include "daemon/manual.hpp"

#include "daemon/claim_keeper.hpp"
#include "housekeep/duration.hpp"
#include "housekeep/error.hpp"
#include "housekeep/history.hpp"
#include "housekeep/output.hpp"
#include "housekeep/task.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <thread>

namespace housekeep {

struct ManualRuns::Run {
  explicit Run(const StopFlag* follows) : stop(follows) {}

  std::string id;
  TriggerRequest request;
  std::string job;  // the job run, or empty for a task
  std::string task; // the job's task, or the task
  std::shared_ptr<const Config> config;
  std::vector<TaskDef> tasks;    // pointing into `config`
  std::optional<Millis> timeout; // the job's; none for a task
  SlotClaim claim;
  TimePoint started_at;
  StopFlag stop;
  // Under the runs' mutex:
  bool finished = false;
  TimePoint finished_at;
  std::string status = "running";
  nlohmann::ordered_json report; // what `run --json` prints of it, once finished
  std::jthread thread;           // last: joined before the rest goes
};

ManualRuns::ManualRuns(ManualRunsEnv env) : m_env(std::move(env)) {}

ManualRuns::~ManualRuns()
{
  {
    const std::lock_guard guard(m_mutex);
    for (const auto& run : m_runs) {
      run->stop.request(StopReason::interrupted);
    }
  }
  for (const auto& run : m_runs) {
    if (run->thread.joinable()) {
      run->thread.join();
    }
  }
}

TriggerOutcome ManualRuns::start(const TriggerRequest& request)
{
  using Result = TriggerOutcome::Result;
  auto run = std::make_unique<Run>(m_env.stop);
  run->request = request;
  run->config = m_env.config();
  const Config& config = *run->config;
  if (request.job) {
    const auto job =
      std::find_if(config.jobs.begin(), config.jobs.end(), [&](const JobConfig& j) { return j.name == request.name; });
    if (job == config.jobs.end()) {
      return {Result::unknown, {}, fmt::format("no job '{}' in the configuration", request.name)};
    }
    run->job = job->name;
    run->task = job->task;
    run->timeout = job->timeout;
  } else {
    run->task = request.name;
  }
  try {
    run->tasks = resolve_tasks(config, {run->task});
  } catch (const Error& e) {
    return {Result::unknown, {}, e.what()};
  }
  {
    const std::lock_guard guard(m_mutex);
    const auto running =
      std::count_if(m_runs.begin(), m_runs.end(), [](const std::unique_ptr<Run>& r) { return !r->finished; });
    if (static_cast<std::size_t>(running) >= k_at_once) {
      return {Result::full, {}, fmt::format("this daemon runs {} manual runs already; try again later", running)};
    }
  }

  std::random_device random;
  run->started_at = m_env.clock->now();
  run->id = fmt::format("{}{}-{:08x}", k_manual_slot, format_utc_stamp(run->started_at),
                        std::uniform_int_distribution<std::uint32_t>()(random));
  run->claim = m_env.holder;
  run->claim.job = request.job ? run->job : "task:" + run->task;
  run->claim.slot = run->id;
  const std::string what = request.job ? fmt::format("job '{}'", run->job) : fmt::format("task '{}'", run->task);
  std::unique_ptr<Store> store;
  try {
    store = m_env.open_store();
    if (!request.job) {
      // A task has no slots of its own: a run of it in progress anywhere holds it.
      RunQuery query;
      query.status = RunStatus::running;
      query.limit = 100;
      for (const RunRecord& other : store->history().runs(query)) {
        const bool same =
          std::any_of(run->tasks.begin(), run->tasks.end(), [&](const TaskDef& t) { return t.name == other.task; });
        if (same && !run_abandoned(other)) {
          return {Result::busy,
                  {},
                  fmt::format("task '{}' is running since {} (pid {} on {})", other.task, format_utc(other.started_at),
                              other.pid, other.host)};
        }
      }
    }
    const ClaimAttempt attempt = store->history().claim_slot(run->claim, config.database.lease);
    if (!attempt.won) {
      if (attempt.blocker) {
        return {Result::busy,
                {},
                fmt::format("{} is running ({} claimed by pid {} on {})", what,
                            attempt.blocker->slot.starts_with(k_manual_slot) ? attempt.blocker->slot
                                                                             : "the slot due " + attempt.blocker->slot,
                            attempt.blocker->pid, attempt.blocker->host)};
      }
      return {Result::busy, {}, fmt::format("{} is running on another daemon", what)};
    }
  } catch (const Error& e) {
    return {Result::unavailable, {}, fmt::format("cannot start {}: {}", what, e.what())};
  }

  m_env.log->info("{}: manual run {} started{} at the status API's request", request.job ? run->job : run->task,
                  run->id, request.dry_run ? " (dry run)" : "");
  TriggerOutcome outcome{Result::started, run->id, {}};
  const std::lock_guard guard(m_mutex);
  // Forget the oldest finished runs beyond those remembered (their threads have ended).
  auto finished = static_cast<std::size_t>(
    std::count_if(m_runs.begin(), m_runs.end(), [](const std::unique_ptr<Run>& r) { return r->finished; }));
  for (auto it = m_runs.begin(); it != m_runs.end() && finished >= k_remembered;) {
    if ((*it)->finished) {
      (*it)->thread.join();
      it = m_runs.erase(it);
      --finished;
    } else {
      ++it;
    }
  }
  Run& started = *run;
  m_runs.push_back(std::move(run));
  started.thread =
    std::jthread([this, &started, store = std::move(store)]() mutable { execute(started, std::move(store)); });
  return outcome;
}

void ManualRuns::execute(Run& run, std::unique_ptr<Store> store)
{
  const Logger log = run.job.empty() ? m_env.log->with({}) : m_env.log->with({.job = run.job});
  const std::string name = run.job.empty() ? run.task : run.job;
  RunStatus status = RunStatus::ok;
  std::optional<RunReport> report;
  std::string error;
  {
    RunProgress progress(*m_env.clock);
    const ClaimKeeper keeper(m_env.open_store, run.claim, run.config->database.lease, run.stop, progress, log,
                             [&store] { return store.get(); });
    RunRequest request;
    request.tasks = run.tasks;
    request.options.dry_run = run.request.dry_run;
    request.options.timeout = run.timeout;
    request.job = run.job;
    request.trigger = run.id;
    request.stop = &run.stop;
    request.progress = &progress;
    const TimePoint started = m_env.clock->now();
    try {
      RunReport r = run_tasks(*store, *run.config, request, *m_env.clock, log);
      if (m_env.finished) {
        m_env.finished(*run.config, run.job, r);
      }
      status = r.status();
      if (status == RunStatus::ok && !r.history_error.empty()) {
        error = fmt::format("the run could not be recorded in housekeep_runs: {}", r.history_error);
        log.error("{}: {}", name, error);
        status = RunStatus::failed;
      }
      report = std::move(r);
    } catch (const TempFailError& e) {
      // The purge lock is held: by a run from the command line, or another task's run.
      log.warning("{}: manual run {} skipped: {}", name, run.id, e.what());
      status = RunStatus::skipped;
      error = e.what();
      if (!run.request.dry_run) {
        record_skipped(*store, request, started, error, *m_env.clock, log);
      }
    } catch (const Error& e) {
      log.error("{}: manual run {}: {}", name, run.id, e.what());
      status = recorded_status(status_for(e.code()));
      error = e.what();
    }
  }
  try {
    store->history().finish_claim(run.claim, run_status_name(status));
  } catch (const Error& e) {
    log.warning("{}: cannot record the end of manual run {}: {}", name, run.id, e.what());
  }
  const TimePoint finished = m_env.clock->now();
  const std::string status_name(run_status_name(status));
  log.log(LogLevel::info,
          fmt::format("{}: manual run {} finished {} in {}", name, run.id, status_name,
                      humanize_duration(finished - run.started_at)),
          {.duration_ms = (finished - run.started_at).count(), .status = status_name});
  const std::lock_guard guard(m_mutex);
  run.finished = true;
  run.finished_at = finished;
  run.status = status_name;
  if (report) {
    run.report = run_report_json(*report);
  }
  if (!error.empty()) {
    run.report["error"] = error;
  }
}

nlohmann::ordered_json ManualRuns::describe(const Run& run) const
{
  return nlohmann::ordered_json{
    {"ok", true},
    {"id", run.id},
    {"job", run.job.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(run.job)},
    {"task", run.task},
    {"dry_run", run.request.dry_run},
    {"state", run.finished ? "finished" : "running"},
    {"status", run.status},
    {"started_at", format_utc(run.started_at)},
    {"finished_at", run.finished ? nlohmann::ordered_json(format_utc(run.finished_at)) : nlohmann::ordered_json()},
    {"report", run.report}};
}

std::optional<nlohmann::ordered_json> ManualRuns::state(const std::string& id) const
{
  const std::lock_guard guard(m_mutex);
  for (const auto& run : m_runs) {
    if (run->id == id) {
      return describe(*run);
    }
  }
  return std::nullopt;
}

} // namespace housekeep
