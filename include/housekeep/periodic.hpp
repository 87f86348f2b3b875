// Something done again and again on a thread of its own while the rest goes on: the
// watchdog's ping during a long run, the renewal of a claim's or a lock's lease.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace housekeep {

/// Calls `tick` every `period` on a thread of its own, the first time one period after it
/// starts, until `tick` returns false or the object is destroyed, which wakes the thread at
/// once and waits for a `tick` in progress to end.
class Periodic {
public:
  Periodic(std::chrono::milliseconds period, std::function<bool()> tick);
  ~Periodic() = default; // the thread is asked to stop (waking its wait) and joined
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

private:
  std::mutex m_mutex;
  std::condition_variable_any m_wake;
  std::jthread m_thread; // last: stopped and joined before the members it uses go
};

} // namespace housekeep
