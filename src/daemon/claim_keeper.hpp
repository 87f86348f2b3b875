// What keeps a claimed slot while its run lasts, for the daemon's scheduled slots and the
// runs asked of its status API alike: the run's progress as the status shows it, and the
// keeper that renews the claim's lease and writes that progress with each renewal.
#pragma once

#include "housekeep/clock.hpp"
#include "housekeep/history.hpp"
#include "housekeep/log.hpp"
#include "housekeep/periodic.hpp"
#include "housekeep/stop.hpp"
#include "housekeep/store.hpp"
#include "housekeep/task.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace housekeep {

// How the run of a claimed slot advances, as the status shows it on any host: kept by the
// run's thread, read by the claim's keeper, which writes it with each renewal.
class RunProgress final : public ProgressSink {
public:
  explicit RunProgress(const Clock& clock) : m_clock(clock) {}

  void advance(std::string_view task, std::int64_t done, std::int64_t total) override
  {
    {
      const std::lock_guard guard(m_mutex);
      if (task != m_task) {
        m_task = std::string(task);
        m_since = m_clock.now();
      }
      m_done = done;
      m_total = total;
      m_paused.clear();
    }
    if (m_between_batches) {
      m_between_batches();
    }
  }
  void paused(std::string_view task, std::string_view why) override
  {
    const std::lock_guard guard(m_mutex);
    m_task = std::string(task);
    m_paused = std::string(why);
  }
  void finish(std::string_view) override {}

  // {"task", "done", "total", "rate", "since", "paused"} as JSON text; empty before the first
  // task reports.
  std::string json() const;

  /// Called on the run's thread after each batch (set before the run starts).
  void between_batches(std::function<void()> call) { m_between_batches = std::move(call); }

private:
  std::function<void()> m_between_batches;
  const Clock& m_clock;
  mutable std::mutex m_mutex;
  std::string m_task;
  TimePoint m_since{};
  std::int64_t m_done = 0;
  std::int64_t m_total = 0;
  std::string m_paused;
};

// Keeps a claimed slot's lease while its run lasts: renews it every quarter of the lease on a
// connection of its own (a batch, a backup or a VACUUM may take longer than a lease), and
// stops the run after its current batch once the claim is lost: taken over by another daemon
// after a renewal failed to reach the database for a whole lease, or found finished.
// Where the engine tells other connections' commits apart (SQLite's quiet batches: a commit
// by another connection ends them for a while), the run's own connection renews the claim
// between batches instead, and the keeper's thread steps in only when that has not happened
// for half a lease (a long batch, a VACUUM, a pause).
class ClaimKeeper {
public:
  /// `run_store`: the store the run works on now (asked after each batch: a run that is
  /// retried may work on a store opened again), or none.
  ClaimKeeper(const std::function<std::unique_ptr<Store>()>& open, SlotClaim claim, Millis lease, StopFlag& run_stop,
              RunProgress& progress, const Logger& log, std::function<Store*()> run_store = {});
  ClaimKeeper(const ClaimKeeper&) = delete;
  ClaimKeeper& operator=(const ClaimKeeper&) = delete;
  ~ClaimKeeper(); // then the keeper's thread is stopped and joined

private:
  SlotClaim m_claim;
  const Logger& m_log;
  RunProgress& m_progress;
  std::atomic<std::chrono::steady_clock::rep> m_renewed; // the last renewal, by either thread
  std::unique_ptr<Store> m_store;                        // the keeper's own, used on its thread
  std::optional<Periodic> m_keeper;                      // last: stopped and joined before the members it uses go

  void lost(StopFlag& run_stop) const;
  void renewed() { m_renewed = std::chrono::steady_clock::now().time_since_epoch().count(); }
  std::chrono::steady_clock::duration since_renewed() const
  {
    return std::chrono::steady_clock::now().time_since_epoch() - std::chrono::steady_clock::duration(m_renewed.load());
  }
};

} // namespace housekeep
