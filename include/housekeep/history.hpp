// housekeep's own tables in the database it tidies: one row per run (housekeep_runs), the
// daemons' memory of each job (housekeep_jobs), their signs of life (housekeep_replicas) and
// the slots they claimed (housekeep_claims).
// Written once, in portable SQL, over any backend.
#pragma once

#include "housekeep/clock.hpp"
#include "housekeep/store.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace housekeep {

/// How a recorded run ended (or that it is still running). Stored by name: ok, failed,
/// refused, skipped, interrupted, timed-out, transient, running, abandoned (a running run
/// whose process is gone).
enum class RunStatus { ok, failed, refused, skipped, interrupted, timed_out, transient, running, abandoned, unknown };

/// The stored name of a status ("timed-out").
std::string_view run_status_name(RunStatus status);
/// The status of a stored name; `unknown` for one this version does not know.
RunStatus parse_run_status(std::string_view name);

/// One row of housekeep_runs.
struct RunRecord {
  std::int64_t id = 0;
  std::string job;
  std::string task;
  TimePoint started_at;
  TimePoint finished_at;
  RunStatus status = RunStatus::ok;
  std::map<std::string, std::int64_t> deleted;
  std::vector<KeptRows> kept;
  std::string error;
  std::string host;
  std::int64_t pid = 0;
  bool dry_run = false;
  std::string output; // an exec task's last output lines
  /// How the run was started: empty from the command line, "schedule" for a daemon's
  /// scheduled slot, "manual:<id>" for a run asked of the status API.
  std::string trigger;
  /// The figures the task reported (the stats task's counts, a backup's bytes), in its order.
  std::vector<std::pair<std::string, std::int64_t>> stats;
};

/// Which runs history() returns, newest first.
struct RunQuery {
  std::size_t limit = 20;
  std::string task;                // empty: all tasks
  std::string job;                 // empty: all jobs and manual runs
  std::optional<RunStatus> status; // none: any status
};

/// What the daemon remembers of a job between firings and across restarts (housekeep_jobs).
struct JobState {
  std::string job;
  std::string schedule;
  std::string timezone;
  std::optional<TimePoint> last_fire;   // the slot of the last firing (run or skipped)
  std::optional<TimePoint> next_fire;   // the slot the daemon waits for; after downtime, the
                                        // first one it missed
  std::string last_status;              // of the last firing: ok, failed, skipped, missed, ...
  std::optional<TimePoint> first_due;   // the first slot waited for under this schedule
  std::int64_t missed = 0;              // slots not run under this schedule (downtime, overlap)
  std::optional<TimePoint> last_missed; // the newest of them
  TimePoint updated_at;
};

/// A daemon's sign of life (housekeep_replicas): one row per daemon process, any number of
/// them on one database.
struct Replica {
  std::string instance; // unique per process: "<host>/<pid>/<random>"
  std::int64_t pid = 0;
  std::string host;
  TimePoint started_at;
  TimePoint heartbeat_at;
  std::string status; // "waiting for nightly at ...", "running nightly", "stopped"
  // Read back only:
  bool live = false;                // its heartbeat's lease has not run out (by the database's clock)
  std::chrono::milliseconds age{0}; // since its last heartbeat, by the database's clock
};

/// How the slot of a run asked of the status API begins ("manual:<id>"): it holds its job (or
/// task) as a scheduled slot does.
inline constexpr std::string_view k_manual_slot = "manual:";

/// A job's slot claimed by a daemon before it runs it (housekeep_claims): one row per job
/// and slot, so that of all the daemons on a database exactly one runs each slot.
struct SlotClaim {
  std::string job;
  std::string slot;   // the slot's time (ISO-8601 UTC), or "manual:<id>" for a manual run
  std::string holder; // the Replica::instance that holds (or held) it
  std::string host;
  std::int64_t pid = 0;
  std::string status = "running"; // then how it ended: a run status, or "missed"
  // Read back only:
  bool live = false;                       // unfinished, with a lease that has not run out
  bool finished = false;                   // its holder said how it ended
  std::int64_t takeovers = 0;              // times taken over from a holder whose lease ran out
  std::chrono::milliseconds lease_left{0}; // until its lease runs out (by the database's clock); 0 when it has
  TimePoint claimed_at;                    // by the database's clock
  std::string progress;                    // what its holder last said of its run (JSON text), or empty
};

/// What claim_slot() found.
struct ClaimAttempt {
  bool won = false;
  /// Lost: the claim that stands (finished, or held by a live holder). Won from a holder
  /// whose lease ran out: that holder's claim, as it was.
  std::optional<SlotClaim> other;
  /// Lost because another slot of the same job is still running (not this slot's claim).
  bool overlaps = false;
  /// When it overlaps: that other slot's live claim, when it could be read.
  std::optional<SlotClaim> blocker;
};

/// The housekeep_* tables of one database. Each is created on its first write; reading one
/// that does not exist yet reads as empty, and tables written by older versions gain the
/// columns added since on their first write.
class History {
public:
  /// Over `backend`, with the tables in `schema` (created on first write), or where the
  /// engine puts a table named without one when it is empty.
  History(Backend& backend, std::string schema);

  /// Appends a run to housekeep_runs and returns its id; a run with an id replaces that row
  /// instead (a run recorded as running when it started).
  std::int64_t record_run(const RunRecord& run);
  /// Deletes recorded runs that started before `before`; returns how many went.
  std::int64_t prune_runs(TimePoint before);
  /// Recorded runs, newest first; empty when nothing was ever recorded.
  std::vector<RunRecord> runs(const RunQuery& query);

  /// Every job's state; empty when no daemon ever ran.
  std::vector<JobState> job_states();
  /// Inserts or replaces one job's state.
  void save_job_state(const JobState& state);
  /// Every daemon's last sign of life, newest heartbeat first; empty when none ever ran here.
  std::vector<Replica> replicas();
  /// Records a daemon's sign of life, live for `lease` from now by the database's clock.
  void save_replica(const Replica& replica, std::chrono::milliseconds lease);
  /// Deletes the records of the daemons `instances`, and of any not live for a week; returns
  /// how many went.
  std::int64_t prune_replicas(const std::vector<std::string>& instances);

  /// Claims `claim.slot` of `claim.job` for `claim.holder` for `lease`, by the database's
  /// clock, with one conditional statement: won when nobody claimed the slot yet, or its
  /// holder's lease ran out before it finished (taken over); lost when the slot is claimed
  /// and live or finished, or while another slot of the same job is live (a job never runs
  /// beside itself).
  ClaimAttempt claim_slot(const SlotClaim& claim, std::chrono::milliseconds lease);
  /// Extends the holder's lease of its claim to `lease` from now, and records `progress` (JSON
  /// text; empty: unchanged); false when the claim is no longer the holder's (taken over
  /// after its lease ran out) or already finished.
  bool renew_claim(const SlotClaim& claim, std::chrono::milliseconds lease, const std::string& progress = {});
  /// Records `claim.slot` of `claim.job` as missed (finished, status "missed") unless anyone
  /// claimed it already; true when this call recorded it, so that one daemon counts it.
  bool claim_missed_slot(const SlotClaim& claim);
  /// Records how the holder's claimed slot ended (a run status, or "missed").
  void finish_claim(const SlotClaim& claim, std::string_view status);
  /// The claims of `job` (every job when empty), newest slot first; with `live_only`, only
  /// those unfinished with a lease that has not run out.
  std::vector<SlotClaim> claims(const std::string& job, std::size_t limit, bool live_only = false);

private:
  Backend& m_backend;
  std::string m_schema;
  std::string m_runs;     // housekeep_runs, as SQL names it (schema-qualified when set)
  std::string m_jobs;     // housekeep_jobs
  std::string m_replicas; // housekeep_replicas
  std::string m_claims;   // housekeep_claims

  std::vector<std::string> m_ensured; // tables known to be there, with every column

  // True when this History made sure of `table` (and its columns) before.
  bool ensured(const std::string& table) const;
  // Creates `table` with `create` (its schema first) unless it is there already; true when it
  // did. A table that exists is never created again: CREATE ... IF NOT EXISTS asks for the
  // CREATE privilege even then, which an application's role often lacks.
  bool create_table(const std::string& table, const std::string& create, std::string_view doing);

  // Makes sure of `table` once per History: created with `columns` when missing, and given
  // each of `added` (columns of later releases, "name TYPE ...") that an older one lacks.
  void ensure_table(const std::string& table, std::string_view columns, const std::vector<std::string>& added = {});
  void ensure_runs_table();
  void ensure_jobs_table();
  void ensure_replicas_table();
  void ensure_claims_table();
  // The claim of `job` and `slot` as it stands, or nothing.
  std::optional<SlotClaim> read_claim(const std::string& job, const std::string& slot);
  // Adds each of `columns` ("name TYPE ...") that `table` lacks.
  void add_missing_columns(const std::string& table, const std::vector<std::string>& columns);
};

} // namespace housekeep
