// The runs asked of the daemon's status API (POST /api/v1/jobs/{name}/run and
// /api/v1/tasks/{name}/run): each claimed in housekeep_claims as a slot "manual:<id>" of its
// job (or of "task:<name>"), so that it never runs beside a scheduled slot of the same job on
// any daemon, then run on a thread of its own with a store of its own, so that neither the
// scheduler nor the HTTP server waits for it.
#pragma once

#include "housekeep/clock.hpp"
#include "housekeep/config.hpp"
#include "housekeep/http.hpp"
#include "housekeep/log.hpp"
#include "housekeep/run.hpp"
#include "housekeep/stop.hpp"
#include "housekeep/store.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace housekeep {

/// What the manual runs need of the daemon that serves them.
struct ManualRunsEnv {
  std::function<std::unique_ptr<Store>()> open_store;
  std::function<std::shared_ptr<const Config>()> config; // the one in force now
  const StopFlag* stop = nullptr;                        // the daemon's: stops every manual run after its batch
  const Logger* log = nullptr;
  const Clock* clock = nullptr;
  SlotClaim holder; // this daemon's holder, host and pid, as its claims carry them
  /// Told of every finished run (metrics file, hooks), on the run's thread; may be empty.
  std::function<void(const Config&, const std::string& job, const RunReport&)> finished;
};

class ManualRuns {
public:
  static constexpr std::size_t k_at_once = 4;     // running on this daemon; more are refused
  static constexpr std::size_t k_remembered = 20; // finished runs kept for state()

  explicit ManualRuns(ManualRunsEnv env);
  /// Asks every run to stop after its current batch and waits for them.
  ~ManualRuns();
  ManualRuns(const ManualRuns&) = delete;
  ManualRuns& operator=(const ManualRuns&) = delete;

  /// Claims the run's slot and starts it on its own thread; returns at once. Busy when the
  /// job holds a claim (its scheduled slot or another manual run, on any daemon), or, for a
  /// task, while a run of that task is in progress.
  TriggerOutcome start(const TriggerRequest& request);
  /// {"id", "job", "task", "dry_run", "state": "running"|"finished", "status", "started_at",
  /// "finished_at", "report"} of a run this daemon started, while it remembers it.
  std::optional<nlohmann::ordered_json> state(const std::string& id) const;

private:
  struct Run;
  ManualRunsEnv m_env;
  mutable std::mutex m_mutex;
  std::deque<std::unique_ptr<Run>> m_runs; // oldest first

  void execute(Run& run, std::unique_ptr<Store> store);
  nlohmann::ordered_json describe(const Run& run) const;
};

} // namespace housekeep
