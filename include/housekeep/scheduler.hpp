// The plan of every configured job: its schedule resolved in its zone, its next fire times,
// its last run from the history, and whether it is healthy. `scheduler-info` prints it and
// the daemon runs it, so what is printed is what runs.
#pragma once

#include "housekeep/config.hpp"
#include "housekeep/history.hpp"
#include "housekeep/schedule.hpp"
#include "housekeep/store.hpp"

#include <optional>
#include <string>
#include <vector>

namespace housekeep {

/// The last invocation of a job as recorded in housekeep_runs (all its tasks together).
struct JobRun {
  TimePoint started_at;
  TimePoint finished_at;
  RunStatus status = RunStatus::ok; // ok, or the first status that was not ok
  std::string error;                // the first error
};

/// How a job stands, as scheduler-info --check judges it.
enum class JobHealth { ok, never_run, failed, late, missed, disabled };

/// The word for a health ("ok", "never-run", "failed", "late", "missed", "disabled").
std::string_view job_health_name(JobHealth health);

/// A configured job with its schedule parsed and its zone and grace resolved against the
/// defaults: what scheduler-info plans and the daemon runs.
struct ResolvedJob {
  JobConfig job;
  Schedule schedule;
  std::string zone_name;
  const date::time_zone* zone = nullptr;
  Millis misfire_grace{0};
  /// `jitter` (the job's, else the default's), and the job's own offset below it: a hash of
  /// its name, the same in every process, so that each slot runs `offset` after its time on
  /// whichever daemon claims it (the slot's key stays the schedule's time).
  Millis jitter{0};
  Millis offset{0};

  /// Its state in housekeep_jobs, if one is recorded for this same schedule and zone with a
  /// next firing (a job whose schedule or zone changed starts afresh); else nullptr.
  const JobState* recorded(const std::vector<JobState>& states) const;
};

/// Resolves one job of `config`; throws CronError or UsageError (validated at load already).
ResolvedJob resolve_job(const JobConfig& job, const Config& config);

/// The job's own next slot after `now`: a calendar expression's next firing, an interval's
/// `now` plus the interval. TimePoint::max() when a calendar expression never fires again.
TimePoint natural_next(const ResolvedJob& job, TimePoint now);

/// The slot the daemon waits for, given the one recorded in housekeep_jobs: the recorded one,
/// unless it lies more than one period past the job's own next slot (it was set while the
/// clock was far ahead, and trusted it would keep the job from running for as long as the
/// clock was wrong), then the job's own. A clock set back by less than a period keeps the
/// recorded slot, so nothing runs twice. The one rule for the daemon and scheduler-info.
TimePoint trusted_next(const ResolvedJob& job, std::optional<TimePoint> recorded, TimePoint now);

/// One job as scheduler-info shows it.
struct JobPlan : ResolvedJob {
  std::vector<TimePoint> next; // upcoming fire times after now
  std::optional<JobRun> last_run;
  std::optional<JobRun> last_success;
  JobHealth health = JobHealth::ok;
  std::string health_reason; // for failed, late and missed: what is wrong
  // From the daemon's record of the job (housekeep_jobs), when one keeps it:
  std::optional<TimePoint> first_due;   // the first slot it waited for under this schedule
  std::int64_t missed = 0;              // slots it did not run (downtime, catch_up, overlap)
  std::optional<TimePoint> last_missed; // the newest of them

  /// Whether scheduler-info --check fails on this job.
  bool unhealthy() const
  {
    return health == JobHealth::failed || health == JobHealth::late || health == JobHealth::missed;
  }
};

/// How a daemon that recorded a heartbeat stands.
enum class ReplicaState {
  running, // its heartbeat's lease runs, and it is not known to be gone
  stopped, // it stopped cleanly
  gone,    // it ended without a clean stop: its process no longer runs on this host
  silent,  // its heartbeat's lease ran out without a clean stop: dead on another host, or stuck
};

/// One daemon as scheduler-info and the status show it.
struct ReplicaStatus : Replica {
  ReplicaState state = ReplicaState::running;
};

/// The daemons (replicas) of a database, newest heartbeat first.
struct DaemonStatus {
  std::vector<ReplicaStatus> replicas;
  /// How many are running.
  std::size_t running() const;
};

/// Reads housekeep_replicas; a daemon of this host whose process is gone is known dead at
/// once, one elsewhere once its heartbeat's lease runs out.
DaemonStatus daemon_status(Store& store);

/// Resolves every job of the configuration at `now` with `count` upcoming times each, reading
/// the last runs from `store` (may be null: no history). A job is
///  - failed when its last run failed, was refused by a guard or was abandoned by a process
///    that died (skipped, interrupted, timed-out and transient runs are not failures);
///  - missed when the daemon let the newest slot that came due pass unrun (down past
///    misfire_grace, catch_up = "skip", or the job still running), and no success came since;
///  - late when the first firing after its last success lies more than misfire_grace in the
///    past, or, never run at all, when the second slot after the daemon first waited for it
///    lies more than misfire_grace in the past;
///  - never-run when nothing of it is recorded yet and no daemon waits for it long enough to
///    tell (not unhealthy: there is nothing to measure from).
/// An `@every` job a daemon keeps continues from the next firing recorded in housekeep_jobs.
std::vector<JobPlan> plan_jobs(const Config& config, TimePoint now, std::size_t count, Store* store);

} // namespace housekeep
