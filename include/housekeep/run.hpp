// The single execution path of every task: read-only check, purge lock, timing, error
// capture and the history record. `run`, and later `daemon`, call run_tasks().
#pragma once

#include "housekeep/archive.hpp"
#include "housekeep/history.hpp"
#include "housekeep/log.hpp"
#include "housekeep/task.hpp"

#include <optional>
#include <string>
#include <vector>

namespace housekeep {

/// What to run and how.
struct RunRequest {
  std::vector<TaskDef> tasks; // from resolve_tasks(), pointing into the run's Config
  RunOptions options;
  std::string job;                         // the job that fired, or empty for a manual run
  std::string trigger;                     // recorded with the runs: RunRecord::trigger
  std::optional<Millis> lock_wait;         // wait this long for the purge lock; unset: do not wait
  const StopFlag* stop = nullptr;          // asks the run to stop after the current batch
  std::string archive_dir;                 // write deleted rows here first (--archive); empty: none
  ProgressSink* progress = nullptr;        // told how each purge advances, or none
  LogLevel summary_level = LogLevel::info; // of the line each finished task logs ("conversations: deleted ...")
};

/// The outcome of a run, as printed by `run` and recorded in housekeep_runs.
struct RunReport {
  bool dry_run = false;
  TimePoint started_at;
  TimePoint finished_at;
  std::vector<TaskResult> tasks;
  std::vector<ArchiveFile> archives; // files written by --archive
  std::string history_error;         // why a task's run could not be recorded in housekeep_runs, if so

  /// True when every task ended ok (or skipped).
  bool ok() const;
  /// The first task that did not end ok, or nullptr.
  const TaskResult* first_failure() const;
  /// The run as one firing records it: the status of its first task that did not end ok
  /// (skipped included), else ok.
  RunStatus status() const;
};

/// This machine's host name, as recorded with runs and locks.
std::string this_host();

/// Whether `pid` of `host` is known to run no more: `host` is this host and no process has
/// that pid (another host's processes cannot be told).
bool process_gone(const std::string& host, std::int64_t pid);

/// Whether a run recorded as running was left so by a process that is gone: one of this host
/// whose pid no longer lives (another host's runs cannot be told).
bool run_abandoned(const RunRecord& run);

/// Marks the runs left running by processes that are gone as abandoned (each a task that a
/// kill or crash ended without its final status); returns how many.
std::int64_t mark_abandoned(Store& store, const Clock& clock, const Logger& log);

/// Takes the database's purge lock for `what` ("run --task all", "restore"), waiting up to
/// `wait` (unset: not at all) unless `stop` is requested; throws TempFailError naming the
/// holder when it stays busy.
std::unique_ptr<Lock> acquire_purge_lock(Store& store, const std::string& what, std::optional<Millis> wait,
                                         const StopFlag* stop, const Clock& clock, const Logger& log);

/// Records each of `request`'s tasks as skipped from `started` to now, with `why` (nothing ran:
/// the purge lock stayed busy); a history that cannot be written is logged, not thrown.
void record_skipped(Store& store, const RunRequest& request, TimePoint started, const std::string& why,
                    const Clock& clock, const Logger& log);

/// The status of a task (or of a firing) that ended with an error of this exit code: refused
/// for a guard, transient for a busy or unreachable database (worth retrying), else failed.
/// One mapping for `run` and the daemon.
TaskStatus status_for(ExitCode code);

/// Runs the tasks in order, in three parts (src/core/run.cpp): what is checked and taken
/// before the first task (read-only database, the right database, archive, purge lock,
/// guards); each task, its errors turned into its status by status_for(); and its record in
/// housekeep_runs around it. A failing task is reported and the next one still runs: one
/// misconfigured table must not stop the others. A stop request or the timeout
/// (options.timeout, counted from the start of the run) ends the current task after its
/// current batch and marks it and the tasks not yet started interrupted or timed-out. Throws
/// only for what stops the whole run before any task starts (read-only database for a real
/// run: PermissionError; the wrong database, or damage: DataError; purge lock held:
/// TempFailError naming the holder; a guard: RefusedError).
RunReport run_tasks(Store& store, const Config& config, const RunRequest& request, const Clock& clock,
                    const Logger& log);

} // namespace housekeep
