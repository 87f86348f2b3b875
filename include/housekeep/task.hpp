// Tasks: each one plain function over a store; the kinds of task are declared once, in
// task_kind.hpp (which says how to add one). `run`, `daemon` and `scheduler-info` all read
// task_table(config).
#pragma once

#include "housekeep/clock.hpp"
#include "housekeep/config.hpp"
#include "housekeep/error.hpp"
#include "housekeep/history.hpp"
#include "housekeep/log.hpp"
#include "housekeep/stop.hpp"
#include "housekeep/store.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace housekeep {

class ArchiveWriter;
class ProgressSink;

/// Largest batch size accepted from the configuration or the command line.
inline constexpr std::int64_t k_max_batch_size = 1000000;
/// The first batch of time-sized batching (or batch_size, if smaller).
inline constexpr std::int64_t k_first_timed_batch = 20;
/// Rows of a task's table in the first stretch of counting (dry run, guards, sweep plans);
/// later stretches are sized by how long their reads take.
inline constexpr std::int64_t k_count_stretch = 100;

/// Per-run choices from the command line or a job; unset members fall back to the config.
struct RunOptions {
  bool dry_run = false;
  std::optional<Millis> older_than;
  std::optional<std::int64_t> batch_size;
  std::optional<Millis> batch_time; // size batches to hold the write lock about this long
  std::optional<Millis> sleep;
  std::optional<Millis> timeout;          // stop after the batch during which this much time passed
  std::optional<std::int64_t> max_delete; // refuse (3) before deleting if more rows would go
  bool allow_empty = false;               // allow a run that deletes every row of a non-empty table
};

/// How a task run ended.
///  ok          finished
///  failed      stopped by an error; its open batch rolled back
///  refused     a safety guard stopped it before anything was deleted
///  skipped     not run (the purge lock stayed busy for a scheduled firing)
///  interrupted stopped by a signal after a committed batch; the next run continues
///  timed-out   stopped at its timeout after a committed batch; the next run continues
///  transient   the database was busy or unreachable; worth retrying, not a real failure
enum class TaskStatus { ok, failed, refused, skipped, interrupted, timed_out, transient };

/// The word used for a status in output and history ("ok", "failed", ...).
std::string_view task_status_name(TaskStatus status);

/// The status a task's run is recorded with in housekeep_runs.
RunStatus recorded_status(TaskStatus status);

/// Rows per table, in the order they were deleted (children first).
using TableCounts = std::vector<std::pair<std::string, std::int64_t>>;

/// What one task did; filled in as it goes, so a failure keeps the progress made before it.
/// Time a task spent in one phase of its work: wall time, and the CPU time of the thread
/// running it (an engine's server works on its own CPU: see the wall time).
struct PhaseTime {
  std::string phase;
  std::chrono::microseconds wall{0};
  std::chrono::microseconds cpu{0};
};

struct TaskResult {
  std::string task;
  TaskStatus status = TaskStatus::ok;
  TableCounts deleted;
  std::vector<KeptRows> kept; // rows left because tables outside the cascade reference them
  TableCounts stats;
  /// Per table deleted from: the dead rows it holds after the purge, where the engine counts
  /// them (space reused once vacuum passes, not returned to the disk).
  TableCounts dead_rows;
  std::int64_t batches = 0;
  std::chrono::milliseconds lock_wait{0};     // waiting to start write transactions
  std::chrono::milliseconds slowest_batch{0}; // the longest write transaction
  std::chrono::milliseconds duration{0};
  ExitCode code = ExitCode::ok;
  std::string error;
  std::string hint;
  std::string output;            // an exec task's last output lines
  std::string reason;            // why a skipped task did not run
  std::vector<PhaseTime> phases; // in the order first entered

  /// Adds `rows` to the count of `table`, keeping first-seen order.
  void add_deleted(const std::string& table, std::int64_t rows);
  /// Adds `kept.rows` to the count of its table and reference; ordered by table, then
  /// reference, so that every way of counting lists them alike.
  void add_kept(const KeptRows& kept);
  /// Rows deleted from every table together.
  std::int64_t total_deleted() const;
  /// Adds time to the phase called `phase`.
  void add_phase(std::string_view phase, std::chrono::microseconds wall, std::chrono::microseconds cpu);
};

/// Adds the time from its construction to its destruction to one phase of a task's result.
class PhaseTimer {
public:
  PhaseTimer(TaskResult& result, std::string_view phase);
  ~PhaseTimer();
  PhaseTimer(const PhaseTimer&) = delete;
  PhaseTimer& operator=(const PhaseTimer&) = delete;

private:
  TaskResult& m_result;
  std::string_view m_phase; // a literal
  std::chrono::steady_clock::time_point m_wall;
  std::chrono::nanoseconds m_cpu;
};

/// "checking 0.31s (CPU 0.29s), deleting 4.1s (CPU 2.0s), ...": where a task's time went.
std::string describe_phases(const std::vector<PhaseTime>& phases);

/// On a dry run, the row sets earlier tasks of the same run would have deleted, so that a
/// later task does not count them again: `all --dry-run` then reports what `all` deletes.
struct PlannedDeletions {
  struct Entry {
    std::shared_ptr<const RowSet> rows;
    std::string key_column;
  };
  std::vector<Entry> entries;
  /// False: tasks only record their row sets and count nothing. The guards need counts only
  /// for max_delete and the progress line; whether a table keeps a row is asked apart.
  bool count = true;
  /// False: planning for the guards of a real run, which repeats every check of the data
  /// (the whole time column's) before its first delete; the checks are not done twice.
  bool check = true;
};

/// Everything a task function may use. `now` is the instant the task started: every cutoff
/// is computed from it once, so the task applies one consistent policy throughout.
struct TaskContext {
  Store& store;
  const Config& config;
  const RunOptions& options;
  const Clock& clock;
  TimePoint now;
  const Logger& log;
  PlannedDeletions* planned;         // set on dry runs only
  const StopFlag* stop = nullptr;    // a signal's request to stop, or none
  std::optional<TimePoint> deadline; // the run's timeout, or none
  ArchiveWriter* archive = nullptr;  // where deleted rows go first (--archive), or none
  ProgressSink* progress = nullptr;  // told how the purge advances, or none
  std::int64_t expected_rows = 0;    // what the guards counted for this task; 0: unknown
  const TaskConfig* task = nullptr;  // the task's configuration: its kind's keys
  bool later_purges = false;         // a later task of this run deletes rows too

  /// Whether to stop now, between batches, and why.
  StopReason stop_reason() const
  {
    if (stop != nullptr && stop->requested()) {
      return stop->reason();
    }
    return deadline && clock.now() >= *deadline ? StopReason::timed_out : StopReason::none;
  }
};

/// Told how a task advances, for a live progress line (the command line draws it).
class ProgressSink {
public:
  virtual ~ProgressSink() = default;
  /// `done` rows deleted so far, of about `total` (0 when unknown).
  virtual void advance(std::string_view task, std::int64_t done, std::int64_t total) = 0;
  /// The task is paused, and why ("standby 'replica1' is 45s behind").
  virtual void paused(std::string_view /*task*/, std::string_view /*why*/) {}
  /// The task ended, whatever way.
  virtual void finish(std::string_view task) = 0;
};

/// Thrown by a task that stopped early between batches; the run records the reason.
class Stopped : public Error {
public:
  explicit Stopped(StopReason reason, std::string message)
      : Error(ExitCode::temp_fail, std::move(message),
              reason == StopReason::timed_out ? "the next run continues where this one stopped"
                                              : "run again to finish; nothing is left half-deleted"),
        m_reason(reason)
  {
  }
  StopReason reason() const { return m_reason; }

private:
  StopReason m_reason;
};

using TaskFn = void (*)(TaskContext& context, TaskResult& result);

/// One runnable task: a built-in one, or one defined in the configuration.
struct TaskDef {
  std::string name;
  std::string summary;
  bool writes = false; // deletes rows (needs write access and the purge lock unless dry-run)
  TaskFn run = nullptr;
  const TaskConfig* config = nullptr; // its configuration (in the Config): its kind's keys
  bool allow_empty = false;           // its policy may take every row of a table (allow_empty = true)
  std::vector<std::string> tables;    // the tables of the database it works on, as configured
};

/// Every task of the configuration: the built-in ones, then those it defines, in file order.
std::vector<TaskDef> task_table(const Config& config);

/// Task names as accepted by --task and jobs: the table's names, then "all".
std::vector<std::string> task_names(const Config& config);

/// True for a name in task_names().
bool is_known_task(const Config& config, std::string_view name);

/// Expands names ("all": the configuration's `all` list) into tasks, each once, in the
/// order of `all` and then of the table; throws UsageError naming an unknown task, with a
/// "did you mean" hint. The result points into `config`, which must outlive it.
std::vector<TaskDef> resolve_tasks(const Config& config, const std::vector<std::string>& names);

} // namespace housekeep
