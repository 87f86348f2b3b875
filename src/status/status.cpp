#include "housekeep/status.hpp"
#include "housekeep/task.hpp"

#include "housekeep/duration.hpp"
#include "housekeep/error.hpp"
#include "housekeep/output.hpp"
#include "housekeep/run.hpp"
#include "housekeep/schedule.hpp"
#include "housekeep/text.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace housekeep {

namespace {

nlohmann::ordered_json run_json(const std::optional<JobRun>& run, const date::time_zone* zone)
{
  if (!run) {
    return nullptr;
  }
  nlohmann::ordered_json out{{"started_at", format_in_zone(run->started_at, zone)},
                             {"finished_at", format_in_zone(run->finished_at, zone)},
                             {"status", run_status_name(run->status)}};
  out["error"] = run->error.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(run->error);
  return out;
}

std::string_view replica_state_name(ReplicaState state)
{
  switch (state) {
  case ReplicaState::running: return "running";
  case ReplicaState::stopped: return "stopped";
  case ReplicaState::gone: return "gone";
  case ReplicaState::silent: return "silent";
  }
  return "unknown";
}

// What is wrong with a daemon, if anything: it ended without a clean stop (its process is
// gone from this host), or its heartbeat stopped coming (dead elsewhere, or stuck).
std::string replica_problem(const ReplicaStatus& r)
{
  switch (r.state) {
  case ReplicaState::running:
  case ReplicaState::stopped: return {};
  case ReplicaState::gone:
    return fmt::format("the daemon (pid {} on {}) ended without a clean stop; its last heartbeat was at {} ({})", r.pid,
                       r.host, format_utc(r.heartbeat_at), r.status);
  case ReplicaState::silent:
    return fmt::format("the daemon (pid {} on {}) has not refreshed its heartbeat since {} ({}): it may be stuck, or "
                       "ended without a clean stop",
                       r.pid, r.host, format_utc(r.heartbeat_at), r.status);
  }
  return {};
}

nlohmann::ordered_json daemon_json(const DaemonStatus& status)
{
  nlohmann::ordered_json replicas = nlohmann::ordered_json::array();
  std::vector<std::string> problems;
  for (const auto& r : status.replicas) {
    nlohmann::ordered_json one{{"instance", r.instance},
                               {"pid", r.pid},
                               {"host", r.host},
                               {"state", replica_state_name(r.state)},
                               {"started_at", format_utc(r.started_at)},
                               {"heartbeat_at", format_utc(r.heartbeat_at)},
                               {"heartbeat_age_ms", r.age.count()},
                               {"status", r.status}};
    if (std::string problem = replica_problem(r); !problem.empty()) {
      one["problem"] = problem;
      problems.push_back(std::move(problem));
    }
    replicas.push_back(std::move(one));
  }
  nlohmann::ordered_json out{{"running", status.running() > 0}, {"replicas", std::move(replicas)}};
  if (!problems.empty()) {
    out["problem"] = problems.front();
  }
  return out;
}

std::string daemon_lines(const DaemonStatus& status)
{
  if (status.replicas.empty()) {
    return "daemon: none has run for this database\n";
  }
  std::string out;
  if (status.running() == 0) {
    out = "daemon: not running\n";
  } else {
    out = fmt::format("daemon: {} running\n", status.running());
  }
  std::vector<std::vector<std::string>> rows{{"  PID", "HOST", "STATE", "STARTED", "HEARTBEAT", "STATUS"}};
  for (const auto& r : status.replicas) {
    rows.push_back({fmt::format("  {}", r.pid), r.host, std::string(replica_state_name(r.state)),
                    format_utc(r.started_at), fmt::format("{} ago", humanize_duration(r.age)), r.status});
  }
  return out + format_columns(rows, {});
}

// The runs recorded as running whose process is not known gone, each with its claim's slot
// and progress when a daemon holds one for it.
std::vector<RunInProgress> runs_in_progress(Store& store)
{
  std::vector<RunInProgress> out;
  RunQuery query;
  query.limit = 100;
  query.status = RunStatus::running;
  const auto claims = store.history().claims("", 100, true);
  for (const RunRecord& run : store.history().runs(query)) {
    if (run_abandoned(run)) {
      continue;
    }
    RunInProgress r{run.job, run.task, run.pid, run.host, run.started_at, {}, nullptr};
    for (const auto& claim : claims) {
      // A daemon's run holds its job's claim; a manual run, the claim its trigger names.
      const bool holds = claim.slot == run.trigger || (!run.job.empty() && claim.job == run.job);
      if (holds && claim.pid == run.pid && claim.host == run.host) {
        r.slot = claim.slot;
        if (auto progress = nlohmann::ordered_json::parse(claim.progress, nullptr, false); progress.is_object()) {
          r.progress = std::move(progress);
        }
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

nlohmann::ordered_json running_json(const std::vector<RunInProgress>& running)
{
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& r : running) {
    out.push_back({{"job", r.job.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.job)},
                   {"task", r.task},
                   {"pid", r.pid},
                   {"host", r.host},
                   {"started_at", format_utc(r.started_at)},
                   {"slot", r.slot.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.slot)},
                   {"progress", r.progress}});
  }
  return out;
}

std::string running_lines(const std::vector<RunInProgress>& running, TimePoint now)
{
  std::string out;
  for (const auto& r : running) {
    out +=
      fmt::format("running: {}{} on pid {} on {}, since {} ({} ago)", r.job.empty() ? "run --task " + r.task : r.job,
                  r.slot.starts_with(k_manual_slot) ? fmt::format(" ({}, asked of the status API)", r.slot) : "", r.pid,
                  r.host, format_utc(r.started_at), humanize_duration(std::max(Millis(0), now - r.started_at)));
    const auto& p = r.progress;
    if (p.is_object() && p.value("done", std::int64_t{-1}) >= 0) {
      out +=
        fmt::format("; {}: {} of ~{} rows, {}/s", p.value("task", std::string()),
                    with_thousands(p.value("done", std::int64_t{0})), with_thousands(p.value("total", std::int64_t{0})),
                    with_thousands(static_cast<std::int64_t>(p.value("rate", 0.0))));
      if (p.contains("paused") && p["paused"].is_string()) {
        out += fmt::format(" (paused: {})", p["paused"].get<std::string>());
      }
    }
    out += "\n";
  }
  return out;
}

} // namespace

ScheduleStatus schedule_status(const Config& config, Store& store, TimePoint now, std::size_t count)
{
  ScheduleStatus status;
  status.database = store.describe();
  status.now = now;
  status.jobs = plan_jobs(config, now, count, &store);
  status.daemon = daemon_status(store);
  status.running = runs_in_progress(store);
  for (const TaskDef& task : task_table(config)) {
    status.tasks.push_back({task.name, task.summary, task.writes});
  }
  for (const auto& replica : status.daemon.replicas) {
    if (std::string trouble = replica_problem(replica); !trouble.empty()) {
      status.problems.push_back(std::move(trouble));
      status.hint =
        "start it again (systemctl restart housekeep, or your supervisor); 'housekeep history' shows what ran";
    }
  }
  for (const auto& plan : status.jobs) {
    if (plan.unhealthy()) {
      status.problems.push_back(
        fmt::format("job '{}' is {}: {}", plan.job.name, job_health_name(plan.health), plan.health_reason));
      if (status.hint.empty()) {
        status.hint = fmt::format("see 'housekeep history --job {}' for its runs and errors", plan.job.name);
      }
    }
  }
  return status;
}

nlohmann::ordered_json schedule_status_json(const ScheduleStatus& status, bool check)
{
  const auto time_or_null = [](const std::optional<TimePoint>& t, const date::time_zone* zone) {
    return t ? nlohmann::ordered_json(format_in_zone(*t, zone)) : nlohmann::ordered_json(nullptr);
  };
  nlohmann::ordered_json tasks = nlohmann::ordered_json::array();
  for (const auto& task : status.tasks) {
    tasks.push_back({{"name", task.name}, {"summary", task.summary}, {"writes", task.writes}});
  }
  nlohmann::ordered_json jobs = nlohmann::ordered_json::array();
  for (const auto& plan : status.jobs) {
    nlohmann::ordered_json next = nlohmann::ordered_json::array();
    for (const TimePoint t : plan.next) {
      next.push_back(format_in_zone(t, plan.zone));
    }
    jobs.push_back({{"name", plan.job.name},
                    {"task", plan.job.task},
                    {"schedule", plan.schedule.text()},
                    {"timezone", plan.zone_name},
                    {"enabled", plan.job.enabled},
                    {"next", std::move(next)},
                    {"last_run", run_json(plan.last_run, plan.zone)},
                    {"last_success", run_json(plan.last_success, plan.zone)},
                    {"health", std::string(job_health_name(plan.health))},
                    {"health_reason", plan.health_reason},
                    {"jitter", plan.jitter > Millis(0) ? nlohmann::ordered_json(format_duration(plan.jitter))
                                                       : nlohmann::ordered_json(nullptr)},
                    {"offset", format_duration(plan.offset)},
                    {"first_due", time_or_null(plan.first_due, plan.zone)},
                    {"missed", {{"count", plan.missed}, {"latest", time_or_null(plan.last_missed, plan.zone)}}}});
  }
  nlohmann::ordered_json doc{{"ok", !check || status.problems.empty()},
                             {"database", status.database},
                             {"daemon", daemon_json(status.daemon)},
                             {"running", running_json(status.running)},
                             {"jobs", std::move(jobs)},
                             {"tasks", std::move(tasks)},
                             {"problems", status.problems}};
  if (check && !status.problems.empty()) {
    doc["error"] = error_json(ExitCode::task_failed, status.problems.front(), status.hint)["error"];
  }
  return doc;
}

std::string schedule_status_table(const ScheduleStatus& status)
{
  std::vector<std::vector<std::string>> rows{
    {"JOB", "TASK", "SCHEDULE", "ZONE", "NEXT RUN", "LAST RUN", "MISSED", "HEALTH"}};
  for (const auto& plan : status.jobs) {
    const std::string last = plan.last_run ? fmt::format("{} {}", format_in_zone(plan.last_run->started_at, plan.zone),
                                                         run_status_name(plan.last_run->status))
                                           : "-";
    const std::string missed =
      plan.last_missed ? fmt::format("{} (latest {})", plan.missed, format_in_zone(*plan.last_missed, plan.zone)) : "-";
    for (std::size_t i = 0; i < std::max<std::size_t>(1, plan.next.size()); ++i) {
      const std::string next = i < plan.next.size() ? format_in_zone(plan.next[i], plan.zone) : "-";
      if (i == 0) {
        rows.push_back({plan.job.name, plan.job.task, plan.schedule.text(), plan.zone_name, next, last, missed,
                        std::string(job_health_name(plan.health))});
      } else {
        rows.push_back({"", "", "", "", next, "", "", ""});
      }
    }
  }
  return daemon_lines(status.daemon) + running_lines(status.running, status.now) + "\n" + format_columns(rows, {});
}

} // namespace housekeep
