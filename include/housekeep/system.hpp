// The daemon's ties to the operating system: signals, an absolute wall-clock sleep that
// notices clock changes, and systemd's notification socket.
#pragma once

#include "housekeep/daemon.hpp"

namespace housekeep {

/// For its lifetime, SIGTERM and SIGINT set `stop` (the current batch finishes, then the run
/// stops; a second signal exits at once, leaving the open batch to roll back) and, when
/// `reload` is true, SIGHUP asks for a reload. wait_until() sleeps on a CLOCK_REALTIME timer
/// set to the absolute deadline, so a clock that is set is followed, and returns early for a
/// signal or a change of the clock. Only one may exist at a time.
class SystemWaiter final : public Waiter {
public:
  SystemWaiter(StopFlag& stop, bool reload);
  ~SystemWaiter() override;
  SystemWaiter(const SystemWaiter&) = delete;
  SystemWaiter& operator=(const SystemWaiter&) = delete;

  Wake wait_until(TimePoint deadline) override;

private:
  int m_timer = -1;
  bool m_reload;
};

/// sd_notify(3): READY, STATUS, WATCHDOG and STOPPING; does nothing outside systemd.
class SystemdNotifier final : public Notifier {
public:
  SystemdNotifier();
  void ready() override;
  void status(std::string_view text) override;
  void watchdog() override;
  void stopping() override;
  std::optional<Millis> watchdog_interval() const override { return m_watchdog; }

private:
  std::optional<Millis> m_watchdog;
};

} // namespace housekeep
