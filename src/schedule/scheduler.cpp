#include "housekeep/scheduler.hpp"
#include "housekeep/history.hpp"

#include "housekeep/duration.hpp"
#include "housekeep/run.hpp"
#include "housekeep/task.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace housekeep {

namespace {

// Position of a task in the order in which one invocation runs its tasks.
std::size_t task_position(const Config& config, const std::string& name)
{
  const auto all = resolve_tasks(config, {"all"});
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].name == name) {
      return i;
    }
  }
  const auto table = task_table(config);
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (table[i].name == name) {
      return all.size() + i;
    }
  }
  return all.size() + table.size();
}

// Groups a job's history (newest first) into invocations: one process recording tasks in
// table order, each starting right after the one before. A task that does not come earlier
// in the table than the one after it starts a new invocation (a daemon's next firing).
std::vector<JobRun> invocations(const Config& config, const std::vector<RunRecord>& rows)
{
  std::vector<JobRun> out;
  const RunRecord* later = nullptr;
  for (const auto& row : rows) {
    const bool same = later != nullptr && row.pid == later->pid && row.host == later->host &&
                      task_position(config, row.task) < task_position(config, later->task) &&
                      later->started_at - row.finished_at < std::chrono::minutes(1);
    later = &row;
    if (!same) {
      out.push_back(JobRun{row.started_at, row.finished_at, row.status, row.error});
      continue;
    }
    JobRun& run = out.back();
    run.started_at = std::min(run.started_at, row.started_at);
    run.finished_at = std::max(run.finished_at, row.finished_at);
    if (row.status != RunStatus::ok) {
      // The earliest task that did not end ok names the invocation's outcome.
      run.status = row.status;
      run.error = row.error;
    }
  }
  return out;
}

} // namespace

ResolvedJob resolve_job(const JobConfig& job, const Config& config)
{
  ResolvedJob r;
  r.job = job;
  r.schedule = Schedule::parse(job.schedule);
  r.zone_name = job.timezone.empty() ? config.defaults.timezone : job.timezone;
  r.zone = find_zone(r.zone_name);
  r.misfire_grace = job.misfire_grace.value_or(config.defaults.misfire_grace);
  r.jitter = job.jitter.value_or(config.defaults.jitter);
  if (r.jitter > Millis(0)) {
    // FNV-1a: the same on every host and build, unlike std::hash. Whole seconds, as shown.
    std::uint64_t hash = 14695981039346656037ULL;
    for (const char c : job.name) {
      hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    }
    const auto seconds = static_cast<std::uint64_t>(std::max<Millis::rep>(1, r.jitter.count() / 1000));
    r.offset = std::chrono::seconds(static_cast<std::int64_t>(hash % seconds));
  }
  return r;
}

TimePoint natural_next(const ResolvedJob& job, TimePoint now)
{
  return next_fire(job.schedule, job.zone, now).value_or(TimePoint::max());
}

TimePoint trusted_next(const ResolvedJob& job, std::optional<TimePoint> recorded, TimePoint now)
{
  const TimePoint natural = natural_next(job, now);
  if (!recorded) {
    return natural;
  }
  const TimePoint limit =
    natural == TimePoint::max() ? natural : next_fire(job.schedule, job.zone, natural).value_or(TimePoint::max());
  return *recorded <= limit ? *recorded : natural;
}

const JobState* ResolvedJob::recorded(const std::vector<JobState>& states) const
{
  const auto state = std::find_if(states.begin(), states.end(), [this](const JobState& s) {
    return s.job == job.name && s.schedule == job.schedule && s.timezone == zone_name && s.next_fire;
  });
  return state == states.end() ? nullptr : &*state;
}

std::string_view job_health_name(JobHealth health)
{
  switch (health) {
  case JobHealth::ok: return "ok";
  case JobHealth::never_run: return "never-run";
  case JobHealth::failed: return "failed";
  case JobHealth::late: return "late";
  case JobHealth::missed: return "missed";
  case JobHealth::disabled: return "disabled";
  }
  return "ok";
}

std::vector<JobPlan> plan_jobs(const Config& config, TimePoint now, std::size_t count, Store* store)
{
  std::vector<JobPlan> plans;
  std::vector<JobState> states;
  if (store != nullptr) {
    states = store->history().job_states();
  }
  for (const auto& job : config.jobs) {
    JobPlan plan;
    static_cast<ResolvedJob&>(plan) = resolve_job(job, config);

    if (store != nullptr) {
      auto rows = store->history().runs(RunQuery{.limit = 200, .task = "", .job = job.name});
      for (auto& row : rows) {
        if (run_abandoned(row)) {
          row.status = RunStatus::abandoned; // not marked yet: no run has started since it was killed
          row.error = fmt::format("process {} ended without finishing the run (killed or crashed)", row.pid);
        }
      }
      const auto runs = invocations(config, rows);
      if (!runs.empty()) {
        plan.last_run = runs.front();
      }
      for (const auto& run : runs) {
        if (run.status == RunStatus::ok) {
          plan.last_success = run;
          break;
        }
      }
    }

    // @every counts from the daemon's recorded next firing, else from the last run, else from
    // now. Periods that passed unrun are skipped arithmetically (an '@every 1s' job idle for
    // a year is one step).
    const JobState* state = plan.recorded(states);
    if (state != nullptr) {
      plan.first_due = state->first_due;
      plan.missed = state->missed;
      plan.last_missed = state->last_missed;
    }
    TimePoint t = now - plan.offset; // a slot runs `offset` after its time
    if (const Millis every = plan.schedule.every(); plan.schedule.cron() == nullptr) {
      // A recorded time set while the clock was ahead is not trusted (trusted_next).
      if (state != nullptr && trusted_next(plan, state->next_fire, now) == *state->next_fire) {
        t = *state->next_fire - every;
      } else if (plan.last_run) {
        t = plan.last_run->started_at;
      }
      if (t + every <= now) {
        t += every * ((now - t) / every);
      }
    }
    while (plan.next.size() < count) {
      const auto next = next_fire(plan.schedule, plan.zone, t);
      if (!next) {
        break;
      }
      if (*next + plan.offset > now) {
        plan.next.push_back(*next + plan.offset);
      }
      t = *next;
    }

    const bool failed =
      plan.last_run && (plan.last_run->status == RunStatus::failed || plan.last_run->status == RunStatus::refused ||
                        plan.last_run->status == RunStatus::abandoned);
    if (!job.enabled) {
      plan.health = JobHealth::disabled;
    } else if (failed) {
      plan.health = JobHealth::failed;
      plan.health_reason = fmt::format("last run at {} {}: {}", format_utc(plan.last_run->started_at),
                                       run_status_name(plan.last_run->status), plan.last_run->error);
    } else if (state != nullptr && state->last_status == "missed" && plan.last_missed &&
               (!plan.last_success || plan.last_success->started_at < *plan.last_missed)) {
      plan.health = JobHealth::missed;
      plan.health_reason =
        fmt::format("the daemon did not run its last slot, due {}, and no run succeeded since "
                    "({} slot{} missed under this schedule; the daemon's log says why)",
                    format_in_zone(*plan.last_missed, plan.zone), plan.missed, plan.missed == 1 ? "" : "s");
    } else if (!plan.last_run) {
      plan.health = JobHealth::never_run;
      // A daemon has waited for it: one period plus the grace after its first slot, a run
      // should have been recorded.
      const auto second = plan.first_due ? next_fire(plan.schedule, plan.zone, *plan.first_due) : std::nullopt;
      if (second && *second + plan.misfire_grace < now) {
        plan.health = JobHealth::late;
        plan.health_reason = fmt::format("never run; first due at {}, and again at {} (misfire_grace {})",
                                         format_in_zone(*plan.first_due, plan.zone), format_in_zone(*second, plan.zone),
                                         format_duration(plan.misfire_grace));
      }
    } else {
      // Skipped, interrupted, timed-out or transient runs are not failures, but neither are
      // they successes: the job is late once a firing passes its grace without one.
      const TimePoint since = plan.last_success ? plan.last_success->started_at : plan.last_run->started_at;
      const auto due = next_fire(plan.schedule, plan.zone, since);
      if (due && *due + plan.misfire_grace < now) {
        plan.health = JobHealth::late;
        plan.health_reason = fmt::format("no successful run since {}; one was due at {} (misfire_grace {})",
                                         format_in_zone(since, plan.zone), format_in_zone(*due, plan.zone),
                                         format_duration(plan.misfire_grace));
      }
    }
    plans.push_back(std::move(plan));
  }
  return plans;
}

std::size_t DaemonStatus::running() const
{
  return static_cast<std::size_t>(std::count_if(
    replicas.begin(), replicas.end(), [](const ReplicaStatus& r) { return r.state == ReplicaState::running; }));
}

DaemonStatus daemon_status(Store& store)
{
  DaemonStatus status;
  for (Replica& replica : store.history().replicas()) {
    ReplicaStatus r;
    static_cast<Replica&>(r) = std::move(replica);
    if (r.status == "stopped") {
      r.state = ReplicaState::stopped;
    } else if (process_gone(r.host, r.pid)) {
      r.state = ReplicaState::gone;
    } else {
      r.state = r.live ? ReplicaState::running : ReplicaState::silent;
    }
    status.replicas.push_back(std::move(r));
  }
  return status;
}

} // namespace housekeep
