#include "housekeep/status.hpp"

#include "housekeep/duration.hpp"
#include "housekeep/error.hpp"
#include "housekeep/output.hpp"
#include "housekeep/schedule.hpp"

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

// What is wrong with the database's daemon, if anything: one that died without a clean stop
// (its last heartbeat is not "stopped" and nobody holds its lock), or one whose heartbeat went
// stale while it holds the lock (stuck).
std::string daemon_problem(const DaemonStatus& status, TimePoint now)
{
  if (!status.beat) {
    return {};
  }
  if (!status.holder && status.beat->status != "stopped") {
    return fmt::format("the daemon (pid {} on {}) ended without a clean stop; its last heartbeat was at {} ({})",
                       status.beat->pid, status.beat->host, format_utc(status.beat->heartbeat_at), status.beat->status);
  }
  if (status.holder && now - status.beat->heartbeat_at > k_stale_heartbeat) {
    return fmt::format("the daemon (pid {} on {}) has not refreshed its heartbeat since {}: it may be stuck",
                       status.holder->pid, status.holder->host, format_utc(status.beat->heartbeat_at));
  }
  return {};
}

nlohmann::ordered_json daemon_json(const DaemonStatus& status, TimePoint now)
{
  nlohmann::ordered_json out{{"running", status.holder.has_value()}};
  if (status.holder) {
    out["pid"] = status.holder->pid;
    out["host"] = status.holder->host;
    out["since"] = status.holder->since;
  }
  if (status.beat) {
    out["heartbeat_at"] = format_utc(status.beat->heartbeat_at);
    out["status"] = status.beat->status;
    out["stale"] = status.holder.has_value() && now - status.beat->heartbeat_at > k_stale_heartbeat;
  }
  if (const std::string problem = daemon_problem(status, now); !problem.empty()) {
    out["problem"] = problem;
  }
  return out;
}

std::string daemon_line(const DaemonStatus& status, TimePoint now)
{
  if (status.holder) {
    std::string line = fmt::format("daemon: running, pid {} on {} since {}", status.holder->pid, status.holder->host,
                                   status.holder->since);
    if (status.beat) {
      const Millis age = std::max(Millis(0), now - status.beat->heartbeat_at);
      line += fmt::format("; heartbeat {} ago: {}", humanize_duration(age), status.beat->status);
      if (age > k_stale_heartbeat) {
        line += " (stale: the daemon may be stuck)";
      }
    }
    return line + "\n";
  }
  if (status.beat) {
    return fmt::format("daemon: not running (last seen {}, pid {} on {}: {})\n", format_utc(status.beat->heartbeat_at),
                       status.beat->pid, status.beat->host, status.beat->status);
  }
  return "daemon: none has run for this database\n";
}

} // namespace

ScheduleStatus schedule_status(const Config& config, Store& store, TimePoint now, std::size_t count)
{
  ScheduleStatus status;
  status.database = store.describe();
  status.now = now;
  status.jobs = plan_jobs(config, now, count, &store);
  status.daemon = daemon_status(store);
  if (std::string trouble = daemon_problem(status.daemon, now); !trouble.empty()) {
    status.problems.push_back(std::move(trouble));
    status.hint =
      "start it again (systemctl restart housekeep, or your supervisor); 'housekeep history' shows what ran";
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
                    {"first_due", time_or_null(plan.first_due, plan.zone)},
                    {"missed", {{"count", plan.missed}, {"latest", time_or_null(plan.last_missed, plan.zone)}}}});
  }
  nlohmann::ordered_json doc{{"ok", !check || status.problems.empty()},
                             {"database", status.database},
                             {"daemon", daemon_json(status.daemon, status.now)},
                             {"jobs", std::move(jobs)},
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
  return daemon_line(status.daemon, status.now) + "\n" + format_columns(rows, {});
}

} // namespace housekeep
