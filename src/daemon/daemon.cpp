#include "housekeep/daemon.hpp"
#include "daemon/claim_keeper.hpp"
#include "daemon/manual.hpp"
#include "housekeep/history.hpp"
#include "housekeep/http.hpp"
#include "housekeep/report.hpp"

#include "housekeep/duration.hpp"
#include "housekeep/error.hpp"
#include "housekeep/periodic.hpp"
#include "housekeep/run.hpp"
#include "housekeep/scheduler.hpp"
#include "housekeep/task.hpp"
#include "housekeep/text.hpp"

#include <date/tz.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <limits>
#include <map>
#include <mutex>
#include <random>

namespace housekeep {

namespace {

using std::chrono::minutes;

// A firing reached within this much of its due time is on time; later ones are missed and
// handled by the job's catch_up policy.
constexpr Millis k_on_time = minutes(1);
// Counting missed calendar firings stops here (an every-second job down for a year).
constexpr std::int64_t k_max_counted = 100000;
// Missed firings logged one by one before the rest are summed up.
constexpr std::int64_t k_logged_slots = 5;

// Slots of a job in a stretch of time: how many, and the newest.
struct Slots {
  std::int64_t count = 0;
  TimePoint newest;
  bool capped = false;
};

struct JobRuntime : ResolvedJob {
  TimePoint next;                     // the slot waited for
  std::optional<TimePoint> last_fire; // the slot of the last firing
  std::string last_status;
  TimePoint first_due;                  // the first slot waited for under this schedule
  std::int64_t missed = 0;              // slots not run under this schedule
  std::optional<TimePoint> last_missed; // the newest of them
  // A slot another daemon claimed and runs: looked at again when its lease would run out,
  // to take it over should that daemon have died.
  struct Watch {
    TimePoint slot;
    TimePoint at;
  };
  std::optional<Watch> watch;

  // When the slot waited for runs: `offset` (its jitter) after it; max() when none comes.
  TimePoint run_at() const { return next == TimePoint::max() ? next : next + offset; }

  // What housekeep_jobs keeps of the job, as of `now`.
  JobState state(TimePoint now) const
  {
    JobState out;
    out.job = job.name;
    out.schedule = job.schedule;
    out.timezone = zone_name;
    out.last_fire = last_fire;
    out.next_fire = next == TimePoint::max() ? std::nullopt : std::optional<TimePoint>(next);
    out.last_status = last_status;
    out.first_due = first_due;
    out.missed = missed;
    out.last_missed = last_missed;
    out.updated_at = now;
    return out;
  }

  // Continues from a state kept in housekeep_jobs (or by the job before a reload).
  void resume(const JobState& kept)
  {
    next = kept.next_fire.value_or(TimePoint::max());
    last_fire = kept.last_fire;
    last_status = kept.last_status;
    first_due = kept.first_due.value_or(next);
    missed = kept.missed;
    last_missed = kept.last_missed;
  }

  // Counts `slots` as missed.
  void miss(const Slots& slots)
  {
    if (slots.count > 0) {
      constexpr auto most = std::numeric_limits<std::int64_t>::max();
      missed = missed > most - slots.count ? most : missed + slots.count;
      last_missed = std::max(last_missed.value_or(slots.newest), slots.newest);
    }
  }
};

// The first slot of the job strictly after `t`. For intervals the grid is anchored at `anchor`
// (a slot); calendar expressions ignore it. TimePoint::max() when nothing fires any more.
TimePoint slot_after(const JobRuntime& j, TimePoint anchor, TimePoint t)
{
  const Millis every = j.schedule.every();
  if (j.schedule.cron() == nullptr) {
    if (t < anchor) {
      return anchor;
    }
    return anchor + every * ((t - anchor) / every + 1);
  }
  return next_fire(j.schedule, j.zone, t).value_or(TimePoint::max());
}

Slots slots_between(const JobRuntime& j, TimePoint from, TimePoint until)
{
  Slots out;
  if (from > until) {
    return out;
  }
  if (j.schedule.cron() == nullptr) {
    out.count = 1 + (until - from) / j.schedule.every();
    out.newest = from + j.schedule.every() * (out.count - 1);
    return out;
  }
  out.count = 1;
  out.newest = from;
  for (TimePoint t = slot_after(j, from, from); t <= until; t = slot_after(j, from, t)) {
    out.newest = t;
    if (++out.count >= k_max_counted) {
      // Dense and long: find the newest slot by walking only the last stretch.
      out.capped = true;
      const TimePoint tail = until - (until - t) / 1000;
      for (TimePoint u = slot_after(j, from, std::max(t, tail - Millis(1))); u <= until; u = slot_after(j, from, u)) {
        out.newest = u;
      }
      break;
    }
  }
  return out;
}

std::string count_text(const Slots& slots)
{
  return slots.capped ? fmt::format("more than {}", with_thousands(slots.count)) : with_thousands(slots.count);
}

// Pings the service manager's watchdog from a helper thread while a job runs, since a long
// purge keeps the loop busy for longer than the watchdog allows.
class WatchdogDuringRun {
public:
  WatchdogDuringRun(Notifier& notifier, std::optional<Millis> interval)
  {
    if (interval) {
      m_ping.emplace(*interval / 2, [&notifier] {
        notifier.watchdog();
        return true;
      });
    }
  }

private:
  std::optional<Periodic> m_ping;
};

// What one look at the claim of a due slot decided: won, lost, or lost and recorded as missed
// by this daemon (a manual run held the job).
enum class Claimed { won, lost, missed };

class Daemon {
public:
  Daemon(Config config, DaemonEnv& env, const DaemonOptions& options)
      : m_config(std::move(config)), m_env(env), m_options(options)
  {
  }

  int run()
  {
    m_store = m_env.open_store();
    const TimePoint start = m_env.clock.now();
    m_beat.pid = static_cast<std::int64_t>(::getpid());
    m_beat.host = this_host();
    m_beat.started_at = start;
    std::random_device random;
    m_beat.instance =
      fmt::format("{}/{}/{:08x}", m_beat.host, m_beat.pid, std::uniform_int_distribution<std::uint32_t>()(random));
    try {
      // Daemons of this host that no longer run (stopped, or known gone): this one takes
      // their place. Others' stay until a week dead, for scheduler-info --check to show.
      std::vector<std::string> done;
      for (const auto& r : daemon_status(*m_store).replicas) {
        if (r.host == m_beat.host && r.state != ReplicaState::running) {
          done.push_back(r.instance);
        }
      }
      m_store->history().prune_replicas(done);
    } catch (const Error& e) {
      m_env.log.warning("cannot prune housekeep_replicas: {}", e.what());
    }

    load_jobs(start);
    m_env.log.info("daemon started for '{}' with {} job{} (pid {})", m_store->describe(), m_jobs.size(),
                   m_jobs.size() == 1 ? "" : "s", m_beat.pid);
    log_other_replicas();
    publish_config();
    // Manual runs are served only with a token; the server, which starts them, stops first.
    std::unique_ptr<ManualRuns> manual;
    if (m_options.http.listen && !m_options.http.token.empty()) {
      manual = std::make_unique<ManualRuns>(manual_env());
    }
    std::unique_ptr<HttpServer> server = serve_http(manual.get());
    m_env.notifier.ready();
    TimePoint next_beat = start;
    std::optional<TimePoint> next_ping;
    if (const auto interval = m_env.notifier.watchdog_interval()) {
      next_ping = start + *interval / 2;
    }

    while (!m_env.stop.requested()) {
      for (auto& job : m_jobs) {
        if (m_env.stop.requested()) {
          break;
        }
        handle_due(job);
      }
      if (m_options.once || m_env.stop.requested()) {
        break;
      }
      const TimePoint now = m_env.clock.now();
      const JobRuntime* earliest = nullptr;
      TimePoint watch_at = TimePoint::max();
      for (const auto& job : m_jobs) {
        if (earliest == nullptr || job.run_at() < earliest->run_at()) {
          earliest = &job;
        }
        if (job.watch) {
          watch_at = std::min(watch_at, job.watch->at);
        }
      }
      const std::string status = earliest == nullptr ? std::string("no enabled jobs; waiting for a signal")
                                                     : fmt::format("waiting for {} at {}", earliest->job.name,
                                                                   format_in_zone(earliest->run_at(), earliest->zone));
      m_env.notifier.status(status);
      m_loop.set(status);
      if (now >= next_beat || status != m_beat.status) {
        beat(status, now);
        next_beat = now + m_options.heartbeat;
      }
      TimePoint wake_at = std::min({earliest == nullptr ? TimePoint::max() : earliest->run_at(), next_beat, watch_at});
      if (next_ping) {
        wake_at = std::min(wake_at, *next_ping);
      }
      const Wake wake = m_env.waiter.wait_until(wake_at);
      if (next_ping && m_env.clock.now() >= *next_ping) {
        m_env.notifier.watchdog();
        next_ping = m_env.clock.now() + *m_env.notifier.watchdog_interval() / 2;
      }
      switch (wake) {
      case Wake::stop: break;
      case Wake::reload: reload(); break;
      case Wake::clock_changed:
        m_env.log.notice("the wall clock was set (now {}); checking what is due", format_utc(m_env.clock.now()));
        break;
      case Wake::deadline: break;
      }
      if (wake == Wake::stop) {
        break;
      }
    }

    m_loop.stopped = true;
    m_env.notifier.stopping();
    beat("stopped", m_env.clock.now());
    m_env.log.info("daemon stopped{}", m_env.stop.requested() ? " on request" : "");
    return 0;
  }

private:
  Config m_config;
  DaemonEnv& m_env;
  DaemonOptions m_options;
  std::unique_ptr<Store> m_store;
  std::vector<JobRuntime> m_jobs;
  Replica m_beat; // this daemon's row of housekeep_replicas
  // What the status API's thread reads: the configuration in force, the loop's state, and
  // the latest run of each job (for /metrics).
  std::mutex m_shared_mutex;
  std::mutex m_report_mutex; // one finished run told to the reporter at a time
  std::shared_ptr<const Config> m_shared_config;
  std::map<std::string, ReportedRun> m_latest_runs;
  LoopState m_loop;

  void publish_config()
  {
    const std::lock_guard guard(m_shared_mutex);
    m_shared_config = std::make_shared<const Config>(m_config);
  }

  // What the manual runs asked of the status API need of this daemon.
  ManualRunsEnv manual_env()
  {
    ManualRunsEnv env;
    env.open_store = m_env.open_store;
    env.config = [this] {
      const std::lock_guard guard(m_shared_mutex);
      return m_shared_config;
    };
    env.stop = &m_env.stop;
    env.log = &m_env.log;
    env.clock = &m_env.clock;
    env.holder.holder = m_beat.instance;
    env.holder.host = m_beat.host;
    env.holder.pid = m_beat.pid;
    env.finished = [this](const Config& config, const std::string& job, const RunReport& report) {
      reported(config, job, report);
    };
    return env;
  }

  // Tells the reporter (metrics file, hooks) and the status API of a finished run, from the
  // loop or a manual run's thread.
  void reported(const Config& config, const std::string& job, const RunReport& report)
  {
    const std::lock_guard guard(m_report_mutex);
    if (m_env.reporter != nullptr) {
      m_env.reporter->finished(config, job, report);
    }
    const std::lock_guard shared(m_shared_mutex);
    m_latest_runs[job] = ReportedRun{job, report};
  }

  // Starts the status API on its own thread and connection, when it is to listen; with
  // `manual`, it also starts runs.
  std::unique_ptr<HttpServer> serve_http(ManualRuns* manual)
  {
    if (!m_options.http.listen) {
      return nullptr;
    }
    StatusApi::Options api;
    api.open_store = m_env.open_store;
    api.config = [this] {
      const std::lock_guard guard(m_shared_mutex);
      return m_shared_config;
    };
    api.loop = &m_loop;
    api.clock = &m_env.clock;
    api.token = m_options.http.token;
    api.reads_need_token = !m_options.http.listen->loopback();
    api.latest_runs = [this] {
      const std::lock_guard guard(m_shared_mutex);
      std::vector<ReportedRun> runs;
      for (const auto& [job, run] : m_latest_runs) {
        runs.push_back(run);
      }
      return runs.empty() ? std::string() : prometheus_text(runs);
    };
    if (manual != nullptr) {
      api.trigger = [manual](const TriggerRequest& request) { return manual->start(request); };
      api.trigger_state = [manual](const std::string& id) { return manual->state(id); };
    }
    auto handler = std::make_shared<StatusApi>(std::move(api));
    auto server = std::make_unique<HttpServer>(
      *m_options.http.listen, [handler](const HttpRequest& request) { return handler->handle(request); });
    m_env.log.info("serving the status API on http://{}{}",
                   ListenAddress{m_options.http.listen->host, server->port(), m_options.http.listen->ipv6}.text(),
                   m_options.http.token.empty() ? "" : " (token configured)");
    return server;
  }

  JobRuntime make_runtime(const JobConfig& job, TimePoint now) const
  {
    JobRuntime j;
    static_cast<ResolvedJob&>(j) = resolve_job(job, m_config);
    j.next = natural_next(j, now);
    j.first_due = j.next;
    return j;
  }

  // Jobs continue from housekeep_jobs when their schedule and zone are unchanged, so firings
  // missed while no daemon ran are known; other jobs start from now.
  void load_jobs(TimePoint now)
  {
    std::vector<JobState> states;
    try {
      states = m_store->history().job_states();
    } catch (const Error& e) {
      m_env.log.warning("cannot read housekeep_jobs, starting every job from now: {}", e.what());
    }
    m_jobs.clear();
    for (const auto& job : m_config.jobs) {
      if (!job.enabled) {
        m_env.log.info("{}: disabled in the configuration", job.name);
        continue;
      }
      JobRuntime j = make_runtime(job, now);
      if (const JobState* state = j.recorded(states)) {
        j.resume(*state);
        distrust_future(j, now);
      }
      m_env.log.debug("{}: task {}, '{}' in {}, next due {}", job.name, job.task, job.schedule, j.zone_name,
                      format_in_zone(j.next, j.zone));
      save_state(j, now);
      m_jobs.push_back(std::move(j));
    }
  }

  void reload()
  {
    Config fresh;
    try {
      fresh = m_env.reload();
    } catch (const Error& e) {
      m_env.log.error("configuration not reloaded, the previous one stays in force: {}", e.what());
      if (!e.hint().empty()) {
        m_env.log.hint(e.hint());
      }
      return;
    }
    const TimePoint now = m_env.clock.now();
    std::vector<JobRuntime> old = std::move(m_jobs);
    m_config = std::move(fresh);
    m_jobs.clear();
    for (const auto& job : m_config.jobs) {
      if (!job.enabled) {
        continue;
      }
      JobRuntime j = make_runtime(job, now);
      const auto kept = std::find_if(old.begin(), old.end(), [&](const JobRuntime& o) {
        return o.job.name == job.name && o.job.schedule == job.schedule && o.zone_name == j.zone_name;
      });
      if (kept != old.end()) {
        j.resume(kept->state(now));
      }
      save_state(j, now);
      m_jobs.push_back(std::move(j));
    }
    publish_config();
    m_env.log.notice("configuration reloaded from {}: {} enabled job{}", m_config.source, m_jobs.size(),
                     m_jobs.size() == 1 ? "" : "s");
  }

  // Says which other daemons run for this database: each slot runs on one of them.
  void log_other_replicas()
  {
    try {
      for (const auto& r : daemon_status(*m_store).replicas) {
        if (r.instance != m_beat.instance && r.state == ReplicaState::running) {
          m_env.log.info("another daemon runs for this database: pid {} on {} (since {}); each slot runs on one of "
                         "them",
                         r.pid, r.host, format_utc(r.started_at));
        }
      }
    } catch (const Error& e) {
      m_env.log.warning("cannot read housekeep_replicas: {}", e.what());
    }
  }

  // Opens the store again when the one held no longer reaches the database: the file was
  // replaced (purging the old one, which nothing reads any more, would report "ok" while the
  // live data grows), or the connection to the server was lost. Throws the store's error
  // while it cannot be opened (the server still down).
  void reach_store()
  {
    const bool replaced = m_store->replaced();
    if (!replaced && !m_store->connection_lost()) {
      return;
    }
    m_env.log.notice("database '{}' {} since the daemon opened it; opening it again", m_store->describe(),
                     replaced ? "was replaced" : "lost its connection");
    m_store = m_env.open_store();
    m_env.log.info("database '{}' opened again", m_store->describe());
  }

  void save_state(const JobRuntime& j, TimePoint now)
  {
    try {
      m_store->history().save_job_state(j.state(now));
    } catch (const Error& e) {
      m_env.log.warning("{}: cannot record its state in housekeep_jobs: {}", j.job.name, e.what());
    }
  }

  void beat(const std::string& status, TimePoint now)
  {
    m_beat.status = status;
    m_beat.heartbeat_at = now;
    try {
      reach_store();
      // Live for three heartbeats: one late write does not make it look dead.
      m_store->history().save_replica(m_beat, m_options.heartbeat * 3);
    } catch (const Error& e) {
      m_env.log.warning("cannot record the heartbeat in housekeep_replicas: {}", e.what());
    }
  }

  void log_missed(const JobRuntime& j, TimePoint from, const Slots& slots, std::string_view why) const
  {
    TimePoint t = from;
    for (std::int64_t i = 0; i < std::min(slots.count, k_logged_slots); ++i) {
      m_env.log.warning("{}: missed the firing due {} ({})", j.job.name, format_in_zone(t, j.zone), why);
      t = slot_after(j, from, t);
    }
    if (slots.count > k_logged_slots) {
      m_env.log.warning("{}: missed {} firings in all, from {} to {} ({})", j.job.name, count_text(slots),
                        format_in_zone(from, j.zone), format_in_zone(slots.newest, j.zone), why);
    }
  }

  // Moves a next-due time set while the clock was far ahead to the job's next real slot
  // (trusted_next, the rule scheduler-info shows too), saying so. Returns whether it moved.
  bool distrust_future(JobRuntime& j, TimePoint now)
  {
    const TimePoint trusted = trusted_next(j, j.next, now);
    if (trusted == j.next) {
      return false;
    }
    m_env.log.notice("{}: its next run was due at {}, more than a period beyond its next slot (was the clock "
                     "ahead?); due at {} now",
                     j.job.name, format_in_zone(j.next, j.zone), format_in_zone(trusted, j.zone));
    j.next = trusted;
    return true;
  }

  // The claim of one of `j`'s slots by this daemon.
  SlotClaim claim_for(const JobRuntime& j, TimePoint slot) const
  {
    SlotClaim claim;
    claim.job = j.job.name;
    claim.slot = format_utc(slot);
    claim.holder = m_beat.instance;
    claim.host = m_beat.host;
    claim.pid = m_beat.pid;
    return claim;
  }

  // Claims `slot` of `j` in housekeep_claims. Lost: the slot is another daemon's (running,
  // done, or its job still running another slot); one another daemon runs is watched, to take
  // it over should its lease run out. A claim that cannot be written is not run.
  Claimed claim(JobRuntime& j, TimePoint slot, const SlotClaim& claim)
  {
    const TimePoint now = m_env.clock.now();
    ClaimAttempt attempt;
    try {
      reach_store();
      attempt = m_store->history().claim_slot(claim, m_config.database.lease);
    } catch (const Error& e) {
      m_env.log.error("{}: cannot claim the slot due {}, so it does not run here: {}", j.job.name,
                      format_in_zone(slot, j.zone), e.what());
      return Claimed::lost;
    }
    if (attempt.won) {
      if (attempt.other) {
        m_env.log.warning("{}: took over the slot due {} from pid {} on {}, which stopped renewing its claim",
                          j.job.name, format_in_zone(slot, j.zone), attempt.other->pid, attempt.other->host);
        abandon_runs_of(*attempt.other, now);
      }
      return Claimed::won;
    }
    if (attempt.overlaps && attempt.blocker && attempt.blocker->slot.starts_with(k_manual_slot)) {
      // A run asked of the status API holds the job: the slot is skipped, as one coming due
      // while the job runs is, and counted missed by the one daemon that records it so.
      try {
        if (m_store->history().claim_missed_slot(claim)) {
          m_env.log.warning("{}: skipped the firing due {}: a manual run of the job ({}, pid {} on {}) is in progress",
                            j.job.name, format_in_zone(slot, j.zone), attempt.blocker->slot, attempt.blocker->pid,
                            attempt.blocker->host);
          j.miss(Slots{1, slot, false});
          return Claimed::missed;
        }
      } catch (const Error& e) {
        m_env.log.warning("{}: cannot record the slot due {} as missed: {}", j.job.name, format_in_zone(slot, j.zone),
                          e.what());
      }
    } else if (attempt.overlaps) {
      m_env.log.debug("{}: the slot due {} is not run: another slot of the job is still running", j.job.name,
                      format_in_zone(slot, j.zone));
    } else if (attempt.other) {
      m_env.log.debug("{}: the slot due {} is {} by pid {} on {}", j.job.name, format_in_zone(slot, j.zone),
                      attempt.other->finished ? "done" : "run", attempt.other->pid, attempt.other->host);
    }
    if (attempt.other && !attempt.other->finished) {
      // Unfinished: watched until it finishes or is taken over. Live, look again just after
      // its lease would run out, by this daemon's clock (a look that comes too soon finds it
      // live and looks again); run out already (lost by a hair to the database's clock, or
      // kept back by another slot of the job still running), again in half a second.
      const Millis wait = attempt.other->live ? attempt.other->lease_left + std::chrono::milliseconds(100)
                                              : Millis(std::chrono::milliseconds(500));
      j.watch = JobRuntime::Watch{slot, now + wait};
      return Claimed::lost;
    }
    if (j.watch && j.watch->slot == slot) {
      j.watch.reset();
    }
    return Claimed::lost;
  }

  // Marks the runs of `job` left running by the daemon whose claim was taken over as
  // abandoned: it stopped renewing its claim, so its process (on whatever host) is gone.
  void abandon_runs_of(const SlotClaim& dead, TimePoint now)
  {
    try {
      RunQuery query;
      query.job = dead.job;
      query.status = RunStatus::running;
      for (RunRecord run : m_store->history().runs(query)) {
        if (run.host != dead.host || run.pid != dead.pid) {
          continue;
        }
        run.status = RunStatus::abandoned;
        run.finished_at = now;
        run.error = fmt::format("its daemon (pid {} on {}) stopped renewing its claim of the slot due {}; pid {} on {} "
                                "took the slot over",
                                dead.pid, dead.host, dead.slot, m_beat.pid, m_beat.host);
        m_store->history().record_run(run);
      }
    } catch (const Error& e) {
      m_env.log.warning("{}: cannot mark the runs of pid {} on {} abandoned: {}", dead.job, dead.pid, dead.host,
                        e.what());
    }
  }

  // Looks at a slot another daemon was running, once its lease would have run out: finished,
  // or renewed, it is left alone; its lease run out, this daemon takes the slot over and runs
  // the job (a purge continues where the other stopped).
  void look_at_watched(JobRuntime& j)
  {
    const TimePoint slot = j.watch->slot;
    const SlotClaim mine = claim_for(j, slot);
    if (claim(j, slot, mine) != Claimed::won) {
      return;
    }
    j.watch.reset();
    run_claimed(j, slot, mine);
  }

  // Re-reads what other daemons recorded of `j` in housekeep_jobs: one that handled later
  // slots moved its next slot on, and counted what it missed.
  void sync(JobRuntime& j)
  {
    try {
      const auto states = m_store->history().job_states();
      if (const JobState* kept = j.recorded(states); kept != nullptr && kept->next_fire && *kept->next_fire > j.next) {
        auto watch = j.watch;
        j.resume(*kept);
        j.watch = watch;
      }
    } catch (const Error& e) {
      m_env.log.warning("{}: cannot read housekeep_jobs: {}", j.job.name, e.what());
    }
  }

  void handle_due(JobRuntime& j)
  {
    if (j.watch && m_env.clock.now() >= j.watch->at) {
      look_at_watched(j);
    }
    // The job's own time: its slots run `offset` (its jitter) after theirs.
    const TimePoint now = m_env.clock.now() - j.offset;
    if (distrust_future(j, now)) {
      save_state(j, now);
    }
    if (j.next > now) {
      return;
    }
    sync(j);
    if (j.next > now) {
      return;
    }
    const TimePoint first = j.next;
    const Slots due = slots_between(j, first, now);
    const Millis late = now - due.newest;
    bool fire = due.count == 1 && late <= k_on_time;
    Slots older{0, due.newest, false};
    std::string why;
    if (!fire) {
      // Downtime, a wall-clock jump, or a long run of another job: catch_up decides.
      const bool within_grace = late <= j.misfire_grace;
      const bool once = j.job.catch_up == CatchUp::once;
      fire = (once && within_grace) || late <= k_on_time;
      older = Slots{due.count - (fire ? 1 : 0), due.newest, due.capped};
      if (fire && older.count > 0) {
        older.newest = slots_between(j, first, due.newest - Millis(1)).newest;
      }
      why = fire   ? std::string("coalesced into the run now")
            : once ? fmt::format("newest is more than misfire_grace {} ago", format_duration(j.misfire_grace))
                   : std::string("catch_up is skip");
    }
    // Whichever daemon claims the slot runs it (or records it missed); the others move on.
    const SlotClaim mine = claim_for(j, due.newest);
    if (const Claimed claimed = claim(j, due.newest, mine); claimed != Claimed::won) {
      j.last_fire = due.newest;
      j.next = slot_after(j, due.newest, now);
      if (claimed == Claimed::missed) {
        save_state(j, now);
      }
      return;
    }
    j.miss(older);
    if (older.count > 0) {
      log_missed(j, first, older, why);
    }
    if (fire && due.count > 1) {
      m_env.log.notice("{}: catching up {} missed firings with one run now", j.job.name, count_text(due));
    }
    j.last_fire = due.newest;
    if (!fire) {
      j.last_status = "missed";
      j.next = slot_after(j, due.newest, now);
      finish(mine, "missed");
      save_state(j, now);
      return;
    }
    run_claimed(j, due.newest, mine);
  }

  // Records how a claimed slot ended.
  void finish(const SlotClaim& claim, std::string_view status)
  {
    try {
      reach_store();
      m_store->history().finish_claim(claim, status);
    } catch (const Error& e) {
      m_env.log.warning("{}: cannot record the end of its claim of the slot due {}: {}", claim.job, claim.slot,
                        e.what());
    }
  }

  // Runs the job for the slot this daemon claimed, then counts the slots that came due
  // meanwhile as missed (no daemon runs a job beside itself) and records the claim's end.
  void run_claimed(JobRuntime& j, TimePoint slot, const SlotClaim& mine)
  {
    j.last_status = std::string(run_status_name(run_job(j, slot, mine)));
    const TimePoint after = m_env.clock.now() - j.offset;
    const TimePoint following = slot_after(j, slot, slot);
    if (following <= after) {
      const Slots overlapped = slots_between(j, following, after);
      j.miss(overlapped);
      m_env.log.warning("{}: skipped {} firing{} due from {} while it was still running", j.job.name,
                        count_text(overlapped), overlapped.count == 1 ? "" : "s", format_in_zone(following, j.zone));
    }
    j.next = std::max(j.next, slot_after(j, slot, after));
    finish(mine, j.last_status);
    save_state(j, after);
  }

  // Runs the job as `housekeep run --job NAME` would, retrying transient failures, while
  // keeping the slot's claim; returns the status of the firing.
  RunStatus run_job(const JobRuntime& j, TimePoint slot, const SlotClaim& mine)
  {
    StopFlag run_stop(&m_env.stop);
    RunProgress progress(m_env.clock);
    const ClaimKeeper keeper(m_env.open_store, mine, m_config.database.lease, run_stop, progress, m_env.log,
                             [this] { return m_store.get(); });
    RunRequest request;
    request.progress = &progress;
    request.tasks = resolve_tasks(m_config, {j.job.task});
    request.job = j.job.name;
    request.trigger = "schedule";
    request.options.timeout = j.job.timeout;
    request.lock_wait = std::min(j.misfire_grace, m_options.max_lock_wait);
    request.stop = &run_stop;
    m_env.notifier.status(fmt::format("running {}", j.job.name));
    m_loop.set(fmt::format("running {}", j.job.name));
    beat(fmt::format("running {}", j.job.name), m_env.clock.now());
    const Logger job_log = m_env.log.with({.job = j.job.name});
    if (j.offset > Millis(0)) {
      job_log.info("{}: fired (task {}, due {}, {} later by its jitter)", j.job.name, j.job.task,
                   format_in_zone(slot, j.zone), humanize_duration(j.offset));
    } else {
      job_log.info("{}: fired (task {}, due {})", j.job.name, j.job.task, format_in_zone(slot, j.zone));
    }

    Millis backoff = m_options.first_retry;
    for (std::int64_t attempt = 0;; ++attempt) {
      const TimePoint started = m_env.clock.now();
      RunStatus status = RunStatus::ok;
      try {
        const WatchdogDuringRun watchdog(m_env.notifier, m_env.notifier.watchdog_interval());
        reach_store();
        const RunReport report = run_tasks(*m_store, m_config, request, m_env.clock, job_log);
        reported(m_config, j.job.name, report);
        status = report.status();
        if (status == RunStatus::ok && !report.history_error.empty()) {
          // A firing nobody can see afterwards is not a success: --check and history read it.
          m_env.log.error("{}: the run could not be recorded in housekeep_runs: {}", j.job.name, report.history_error);
          status = RunStatus::failed;
        }
      } catch (const TempFailError& e) {
        // The purge lock stayed busy (a manual run), or a stop came while waiting for it.
        m_env.log.warning("{}: skipped: {}", j.job.name, e.what());
        record_skipped(*m_store, request, started, e.what(), m_env.clock, m_env.log);
        return RunStatus::skipped;
      } catch (const Error& e) {
        m_env.log.error("{}: {}", j.job.name, e.what());
        status = recorded_status(status_for(e.code()));
      }
      const Millis took = m_env.clock.now() - started;
      if (status == RunStatus::transient && attempt < j.job.retries && !run_stop.requested()) {
        m_env.log.notice("{}: the database was busy or unreachable; retry {} of {} in {}", j.job.name, attempt + 1,
                         j.job.retries, humanize_duration(backoff));
        if (m_env.waiter.wait_until(m_env.clock.now() + backoff) == Wake::stop || run_stop.requested()) {
          return RunStatus::interrupted;
        }
        backoff = std::min(backoff * 2, Millis(minutes(5)));
        continue;
      }
      const std::string name(run_status_name(status));
      job_log.log(LogLevel::info, fmt::format("{}: finished {} in {}", j.job.name, name, humanize_duration(took)),
                  {.duration_ms = took.count(), .status = name});
      return status;
    }
  }
};

} // namespace

int run_daemon(Config config, DaemonEnv& env, const DaemonOptions& options)
{
  Daemon daemon(std::move(config), env, options);
  return daemon.run();
}

} // namespace housekeep
