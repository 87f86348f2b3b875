#include "housekeep/scheduler.hpp"

#include "housekeep/duration.hpp"

#include <fmt/format.h>

namespace housekeep {

namespace {

// Groups a job's history (newest first) into invocations: consecutive rows of one process.
std::vector<JobRun> invocations(const std::vector<RunRecord>& rows)
{
  std::vector<JobRun> out;
  const RunRecord* head = nullptr;
  for (const auto& row : rows) {
    const bool same = head != nullptr && row.pid == head->pid && row.host == head->host &&
                      row.started_at <= out.back().started_at + std::chrono::hours(24);
    if (!same) {
      out.push_back(JobRun{row.started_at, row.finished_at, row.status, row.error});
      head = &row;
      continue;
    }
    JobRun& run = out.back();
    run.started_at = std::min(run.started_at, row.started_at);
    run.finished_at = std::max(run.finished_at, row.finished_at);
    if (run.status == "ok" && row.status != "ok") {
      run.status = row.status;
      run.error = row.error;
    }
  }
  return out;
}

} // namespace

std::string_view job_health_name(JobHealth health)
{
  switch (health) {
  case JobHealth::ok: return "ok";
  case JobHealth::never_run: return "never-run";
  case JobHealth::failed: return "failed";
  case JobHealth::late: return "late";
  case JobHealth::disabled: return "disabled";
  }
  return "ok";
}

std::vector<JobPlan> plan_jobs(const Config& config, TimePoint now, std::size_t count, Store* store)
{
  std::vector<JobPlan> plans;
  for (const auto& job : config.jobs) {
    JobPlan plan;
    plan.job = job;
    plan.schedule = Schedule::parse(job.schedule);
    plan.zone_name = job.timezone.empty() ? config.defaults.timezone : job.timezone;
    plan.zone = find_zone(plan.zone_name);
    plan.misfire_grace = job.misfire_grace.value_or(config.defaults.misfire_grace);

    if (store != nullptr) {
      const auto runs = invocations(store->runs(RunQuery{.limit = 200, .task = "", .job = job.name}));
      if (!runs.empty()) {
        plan.last_run = runs.front();
      }
      for (const auto& run : runs) {
        if (run.status == "ok") {
          plan.last_success = run;
          break;
        }
      }
    }

    // @every counts from the last run, or from now when there is none. Periods that passed
    // unrun are skipped arithmetically (an '@every 1s' job idle for a year is one step).
    TimePoint t = now;
    if (plan.schedule.cron() == nullptr && plan.last_run) {
      t = plan.last_run->started_at;
      const auto every = plan.schedule.every();
      if (t + every <= now) {
        t += every * ((now - t) / every);
      }
    }
    while (plan.next.size() < count) {
      const auto next = next_fire(plan.schedule, plan.zone, t);
      if (!next) {
        break;
      }
      if (*next > now) {
        plan.next.push_back(*next);
      }
      t = *next;
    }

    if (!job.enabled) {
      plan.health = JobHealth::disabled;
    } else if (!plan.last_run) {
      plan.health = JobHealth::never_run;
    } else if (plan.last_run->status != "ok") {
      plan.health = JobHealth::failed;
      plan.health_reason = fmt::format("last run at {} {}: {}", format_utc(plan.last_run->started_at),
                                       plan.last_run->status, plan.last_run->error);
    } else {
      const auto due = next_fire(plan.schedule, plan.zone, plan.last_success->started_at);
      if (due && *due + plan.misfire_grace < now) {
        plan.health = JobHealth::late;
        plan.health_reason =
          fmt::format("no successful run since {}; one was due at {} (misfire_grace {})",
                      format_in_zone(plan.last_success->started_at, plan.zone),
                      format_in_zone(*due, plan.zone), format_duration(plan.misfire_grace));
      }
    }
    plans.push_back(std::move(plan));
  }
  return plans;
}

} // namespace housekeep
