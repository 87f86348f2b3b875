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

struct ScheduleStatus {
  std::string database; // described, password masked
  TimePoint now;        // when the status was taken
  DaemonStatus daemon;
  std::vector<JobPlan> jobs;
  /// What is wrong, one line each: the daemon's trouble first, then each unhealthy job's.
  std::vector<std::string> problems;
  /// What to do about the first problem.
  std::string hint;
};

/// Reads the schedule's status from `store` at `now`, with `count` upcoming runs per job.
ScheduleStatus schedule_status(const Config& config, Store& store, TimePoint now, std::size_t count);

/// The status as `scheduler-info --format json` prints it: {"ok", "database", "daemon",
/// "jobs", "problems"}. As a `check` (--check), "ok" is false when there are problems and
/// the first is also the document's "error"; otherwise the run succeeded ("ok": true) and
/// the problems are data.
nlohmann::ordered_json schedule_status_json(const ScheduleStatus& status, bool check);

/// The status as `scheduler-info` prints it: the daemon's line, then a table of the jobs.
std::string schedule_status_table(const ScheduleStatus& status);

} // namespace housekeep
