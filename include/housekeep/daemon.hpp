// The daemon: the configured jobs on their schedules, each firing running exactly what
// `housekeep run --job NAME` runs (run_tasks()).
//
// One loop, one thread: it sleeps until the earliest due time (or a signal, or a wall-clock
// change), runs what is due in configuration order, and sleeps again. Jobs therefore never
// overlap, with themselves or each other; a firing that comes due while its own job is still
// running is skipped and logged, on this daemon or any other of the database (the claim of a
// slot is refused while another slot of its job runs). Everything it waits on (clock, sleep,
// signals, systemd) comes in through DaemonEnv, so tests drive years of schedule with a fake
// clock.
#pragma once

#include "housekeep/clock.hpp"
#include "housekeep/config.hpp"
#include "housekeep/http.hpp"
#include "housekeep/log.hpp"
#include "housekeep/report.hpp"
#include "housekeep/stop.hpp"
#include "housekeep/store.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace housekeep {

/// Why a wait ended.
enum class Wake {
  deadline,      // the time asked for came
  stop,          // SIGTERM or SIGINT: finish up and exit
  reload,        // SIGHUP: read the configuration again
  clock_changed, // the wall clock was set (NTP step, suspend, an operator)
};

/// Sleeps until an instant of the wall clock, or until something happens.
class Waiter {
public:
  virtual ~Waiter() = default;
  virtual Wake wait_until(TimePoint deadline) = 0;
};

/// Talks to the service manager (systemd's sd_notify); every call may do nothing.
class Notifier {
public:
  virtual ~Notifier() = default;
  virtual void ready() = 0;
  virtual void status(std::string_view text) = 0;
  virtual void watchdog() = 0;
  virtual void stopping() = 0;
  /// How often the watchdog wants a ping, when it is enabled.
  virtual std::optional<Millis> watchdog_interval() const = 0;
};

/// What the daemon runs against.
struct DaemonEnv {
  const Clock& clock;
  Waiter& waiter;
  Notifier& notifier;
  const Logger& log;
  const StopFlag& stop; // set by SIGTERM/SIGINT; runs stop after their current batch
  std::function<std::unique_ptr<Store>()> open_store;
  std::function<Config()> reload; // the configuration read again; throws Error when bad
  Reporter* reporter = nullptr;   // told about every finished run (metrics, hooks), or none
};

struct DaemonOptions {
  bool once = false;                              // run what is due or owed now, then exit
  Millis heartbeat{std::chrono::minutes(5)};      // how often housekeep_daemon is refreshed
  Millis first_retry{std::chrono::seconds(1)};    // backoff of transient failures, doubling
  Millis max_lock_wait{std::chrono::minutes(10)}; // bound on waiting for the purge lock
  HttpSetup http;                                 // the status API, when it listens
};

/// Runs the daemon until a stop signal (or, with `once`, until what is due has run). Returns
/// the exit status: 0 after a clean stop. Throws the store's errors when it cannot be opened.
/// Other daemons may run against the same database: each slot is claimed in housekeep_claims
/// before it runs (History::claim_slot), so exactly one of them runs it.
int run_daemon(Config config, DaemonEnv& env, const DaemonOptions& options);

} // namespace housekeep
