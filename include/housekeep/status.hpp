// The status of a database's schedule: its daemon, its jobs with their next runs, last runs,
// missed slots and health, and what `scheduler-info --check` fails on. Built by one function
// for every reader: scheduler-info's table and JSON, and the daemon's status endpoint.
#pragma once

#include "housekeep/clock.hpp"
#include "housekeep/config.hpp"
#include "housekeep/scheduler.hpp"
#include "housekeep/store.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace housekeep {

/// A task being run now, by a daemon (on any host) or a manual `run`: its row of
/// housekeep_runs, with its slot's claim when a daemon runs it.
struct RunInProgress {
  std::string job; // empty for a manual run
  std::string task;
  std::int64_t pid = 0;
  std::string host;
  TimePoint started_at;
  std::string slot; // the claimed slot; empty for a manual run
  /// What its daemon last recorded with its claim ({"task", "done", "total", "rate", "since",
  /// "paused"}), or null: none yet (it is written with each renewal of the claim).
  nlohmann::ordered_json progress;
};

struct ScheduleStatus {
  std::string database; // described, password masked
  TimePoint now;        // when the status was taken
  DaemonStatus daemon;
  std::vector<RunInProgress> running;
  std::vector<JobPlan> jobs;
  /// Every task of the configuration, built-in first: what can be run by name.
  struct Task {
    std::string name;
    std::string summary;
    bool writes = false;
  };
  std::vector<Task> tasks;
  /// What is wrong, one line each: the daemon's trouble first, then each unhealthy job's.
  std::vector<std::string> problems;
  /// What to do about the first problem.
  std::string hint;
};

/// Reads the schedule's status from `store` at `now`, with `count` upcoming runs per job.
ScheduleStatus schedule_status(const Config& config, Store& store, TimePoint now, std::size_t count);

/// The status as `scheduler-info --format json` and `status --json` print it (and the daemon's
/// /api/v1/status serves it): {"ok", "database", "daemon", "running", "jobs", "tasks", "problems"}. As a `check` (--check), "ok" is false when there are problems and
/// the first is also the document's "error"; otherwise the run succeeded ("ok": true) and
/// the problems are data.
nlohmann::ordered_json schedule_status_json(const ScheduleStatus& status, bool check);

/// The status as `scheduler-info` and `status` print it: the daemons, the runs in progress,
/// then a table of the jobs.
std::string schedule_status_table(const ScheduleStatus& status);

} // namespace housekeep
