// What keeps a claimed slot while its run lasts, for the daemon's scheduled slots and the
// runs asked of its status API alike: the run's progress as the status shows it, and the
// keeper that renews the claim's lease and writes that progress with each renewal.
#pragma once

#include "housekeep/clock.hpp"
#include "housekeep/history.hpp"
#include "housekeep/log.hpp"
#include "housekeep/stop.hpp"
#include "housekeep/store.hpp"
#include "housekeep/task.hpp"

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace housekeep {

// How the run of a claimed slot advances, as the status shows it on any host: kept by the
// run's thread, read by the claim's keeper, which writes it with each renewal.
class RunProgress final : public ProgressSink {
public:
  explicit RunProgress(const Clock& clock) : m_clock(clock) {}

  void advance(std::string_view task, std::int64_t done, std::int64_t total) override
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

private:
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
class ClaimKeeper {
public:
  ClaimKeeper(const std::function<std::unique_ptr<Store>()>& open, SlotClaim claim, Millis lease, StopFlag& run_stop,
              const RunProgress& progress, const Logger& log);
  ClaimKeeper(const ClaimKeeper&) = delete;
  ClaimKeeper& operator=(const ClaimKeeper&) = delete;
  ~ClaimKeeper() = default; // the jthread asks its loop to stop, and joins

private:
  SlotClaim m_claim;
  const Logger& m_log;
  std::jthread m_thread; // last: stopped and joined before the members it uses go
};

} // namespace housekeep
