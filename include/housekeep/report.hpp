// Telling the world how runs went: a Prometheus textfile (for node_exporter's textfile
// collector), statsd counters and timings over UDP, and on_failure / on_success hooks. One
// Reporter serves `run` and the daemon alike; none of it can change a run's own outcome.
#pragma once

#include "housekeep/clock.hpp"
#include "housekeep/config.hpp"
#include "housekeep/log.hpp"
#include "housekeep/process.hpp"
#include "housekeep/run.hpp"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace housekeep {

/// One run as reported: the job it ran for ("" for a manual run) and what it did.
struct ReportedRun {
  std::string job;
  RunReport report;
};

/// The Prometheus text exposition of the latest run of each job and task.
std::string prometheus_text(const std::vector<ReportedRun>& runs);

/// The statsd lines of one run ("housekeep.deleted.messages:1234|c", ...).
std::vector<std::string> statsd_lines(const ReportedRun& run);

/// Writes `text` to `path` through a temporary file in the same directory and a rename, so
/// that a reader sees the old file or the new one, never half of one. Throws
/// CantCreateError (73) or IoError (74).
void write_file_atomically(const std::string& path, const std::string& text);

/// Throws UsageError (64) unless `target` is HOST:PORT and resolves.
void check_statsd_target(const std::string& target);

/// Sends each line as one UDP datagram to `target` ("host:port"); throws UsageError for a
/// target that does not parse or resolve, and returns false when sending failed.
bool send_statsd(const std::string& target, const std::vector<std::string>& lines);

/// The environment a hook runs with, besides PATH, HOME, LANG and TZ: HOUSEKEEP_JOB,
/// HOUSEKEEP_TASKS, HOUSEKEEP_STATUS, HOUSEKEEP_EXIT_CODE, HOUSEKEEP_ERROR,
/// HOUSEKEEP_DELETED (each table once, over every task: "messages=12 conversations=3"),
/// HOUSEKEEP_DELETED_TOTAL, HOUSEKEEP_DURATION_MS, HOUSEKEEP_DATABASE (password masked), and
/// per task HOUSEKEEP_DELETED_<TASK> (its name in capitals) with that task's tables alone.
std::vector<std::pair<std::string, std::string>> hook_environment(const ReportedRun& run, const std::string& database);

/// Runs `command` with /bin/sh -c in its own process group, with `environment`, its output
/// captured (the last 4 KiB); kills the whole group when it outlives `timeout`. The status is
/// 128 + signal when it was killed, -1 when it could not start.
ProcessResult run_hook(const std::string& command, const std::vector<std::pair<std::string, std::string>>& environment,
                       Millis timeout);

/// Where reports go; empty members are off.
struct ReportTargets {
  std::string metrics_file;
  std::string statsd;
};

/// Reports every finished run to the targets and runs the job's hooks.
class Reporter {
public:
  Reporter(ReportTargets targets, std::string database, const Logger& log)
      : m_targets(std::move(targets)), m_database(std::move(database)), m_log(log)
  {
  }

  /// After a run: rewrites the metrics file (keeping the latest run of every job reported
  /// so far), sends statsd lines, and runs on_failure or on_success (the job's, else the
  /// defaults'). Problems are logged as warnings, never thrown.
  void finished(const Config& config, const std::string& job, const RunReport& report);

private:
  ReportTargets m_targets;
  std::string m_database;
  const Logger& m_log;
  std::map<std::string, ReportedRun> m_latest; // by job
};

} // namespace housekeep
