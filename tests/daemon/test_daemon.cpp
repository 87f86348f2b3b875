// The daemon loop on a fake clock: days and weeks of schedule in milliseconds. What ran is
// read back from housekeep_runs with plain SQL, not from the daemon's own bookkeeping.
#include "housekeep/daemon.hpp"
#include "housekeep/error.hpp"
#include "housekeep/schedule.hpp"
#include "housekeep/scheduler.hpp"

#include "store/backend.hpp"
#include "store/sqlite/sqlite_backend.hpp"
#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <set>

using namespace housekeep;
using namespace std::chrono;

namespace {

// Jumps the fake clock to each deadline; events can be scheduled at given instants, and the
// whole run ends (as if by SIGTERM) at `end`.
class FakeWaiter final : public Waiter {
public:
  FakeWaiter(const test::FakeClock& clock, StopFlag& stop, TimePoint end) : m_clock(clock), m_stop(stop), m_end(end) {}

  struct Event {
    Wake wake;
    std::function<void()> before; // runs when the event fires, e.g. to move the clock
  };
  /// Events must be added in time order.
  void at(TimePoint t, Event event) { m_events.emplace_back(t, std::move(event)); }
  /// Moves the end of the run (for a second life of the daemon).
  void end_at(TimePoint end) { m_end = end; }
  int waits = 0;

  Wake wait_until(TimePoint deadline) override
  {
    ++waits;
    if (m_next_event < m_events.size() && m_events[m_next_event].first <= std::min(deadline, m_end)) {
      const auto& [t, event] = m_events[m_next_event++];
      m_clock.set(std::max(m_clock.now(), t));
      if (event.before) {
        event.before();
      }
      return event.wake;
    }
    if (deadline >= m_end) {
      m_clock.set(m_end);
      m_stop.request(StopReason::interrupted);
      return Wake::stop;
    }
    m_clock.set(std::max(m_clock.now(), deadline));
    return Wake::deadline;
  }

private:
  const test::FakeClock& m_clock;
  StopFlag& m_stop;
  TimePoint m_end;
  std::vector<std::pair<TimePoint, Event>> m_events;
  std::size_t m_next_event = 0;
};

class FakeNotifier final : public Notifier {
public:
  int ready_calls = 0;
  int stopping_calls = 0;
  std::string last_status;
  void ready() override { ++ready_calls; }
  void status(std::string_view text) override { last_status = std::string(text); }
  void watchdog() override {}
  void stopping() override { ++stopping_calls; }
  std::optional<Millis> watchdog_interval() const override { return std::nullopt; }
};

// A database server that can restart: each connection (a SQLite backend underneath) belongs to
// the server's life it was opened in, and once the server restarts every statement through an
// older one fails as a dropped connection does, it says it was lost, and the locks it held are
// released (as a server releases a dead session's locks).
class RestartingServer {
public:
  explicit RestartingServer(std::string path) : m_path(std::move(path)) {}
  void restart()
  {
    ++m_life;
    for (auto& held : m_locks) {
      held->reset();
    }
  }
  int opened = 0;

  std::unique_ptr<Store> open()
  {
    ++opened;
    return std::make_unique<Store>(
      std::make_unique<Connection>(open_sqlite_backend(parse_database_url(m_path), OpenOptions{}), *this, m_life));
  }

private:
  // A lock the server can release under its holder.
  class ServerLock final : public Lock {
  public:
    explicit ServerLock(std::shared_ptr<std::unique_ptr<Lock>> held) : m_held(std::move(held)) {}
    ~ServerLock() override { m_held->reset(); }
    ServerLock(const ServerLock&) = delete;
    ServerLock& operator=(const ServerLock&) = delete;

  private:
    std::shared_ptr<std::unique_ptr<Lock>> m_held;
  };

  class Connection final : public Backend {
  public:
    Connection(std::unique_ptr<Backend> inner, RestartingServer& server, int life)
        : m_inner(std::move(inner)), m_server(server), m_life(life)
    {
    }
    std::string describe() const override { return m_inner->describe(); }
    std::string name() const override { return m_inner->name(); }
    bool read_only() const override { return m_inner->read_only(); }
    bool replaced() const override { return false; }
    bool connection_lost() const override { return m_server.m_life != m_life; }
    const Dialect& dialect() const override { return m_inner->dialect(); }
    StoreTraits traits() const override { return m_inner->traits(); }
    std::int64_t execute(const Sql& statement, std::string_view doing) override
    {
      check();
      return m_inner->execute(statement, doing);
    }
    void query(const Sql& statement, const RowVisitor& each, std::string_view doing) override
    {
      check();
      m_inner->query(statement, each, doing);
    }
    std::unique_ptr<Transaction> begin_write() override
    {
      check();
      return m_inner->begin_write();
    }
    std::optional<std::vector<std::string>> columns(std::string_view table) override
    {
      check();
      return m_inner->columns(table);
    }
    std::vector<ForeignKey> foreign_keys() override
    {
      check();
      return m_inner->foreign_keys();
    }
    LockAttempt try_lock(const LockHolder& me, LockScope scope) override
    {
      check();
      LockAttempt attempt = m_inner->try_lock(me, scope);
      if (attempt.lock) {
        auto held = std::make_shared<std::unique_ptr<Lock>>(std::move(attempt.lock));
        m_server.m_locks.push_back(held);
        attempt.lock = std::make_unique<ServerLock>(held);
      }
      return attempt;
    }
    std::optional<LockHolder> lock_holder(LockScope scope) override { return m_inner->lock_holder(scope); }

  private:
    std::unique_ptr<Backend> m_inner;
    RestartingServer& m_server;
    int m_life;
    void check() const
    {
      if (connection_lost()) {
        throw UnavailableError("server closed the connection unexpectedly");
      }
    }
  };

  std::string m_path;
  int m_life = 0;
  std::vector<std::shared_ptr<std::unique_ptr<Lock>>> m_locks;
};

struct Harness {
  test::TempDir dir;
  std::string path = dir.file("app.db");
  test::FakeClock clock;
  StopFlag stop;
  FakeWaiter waiter;
  FakeNotifier notifier;
  test::CapturedLog log{LogLevel::info};
  std::function<Config()> reload = [] { return Config{}; };
  std::function<std::unique_ptr<Store>()> open = [this] { return open_store(parse_database_url(path), OpenOptions{}); };

  Harness(TimePoint start, TimePoint end) : clock(start), waiter(clock, stop, end)
  {
    test::Sql sql(path);
    create_classic_schema(sql);
  }

  int run(const Config& config, bool once = false) { return run(config, clock, once); }

  // With another clock standing in for the fake one (which the waiter still moves).
  int run(const Config& config, const Clock& run_clock, bool once = false)
  {
    DaemonEnv env{
      run_clock, waiter, notifier, log.logger(), stop, [this] { return open(); }, [this] { return reload(); }};
    DaemonOptions options;
    options.once = once;
    options.heartbeat = days(1); // fewer writes over months of fake time; counted below
    return run_daemon(config, env, options);
  }

  // Start times of a job's firings, read with plain SQL (one row per firing: its last task).
  std::vector<std::string> fired(const std::string& job_name, const std::string& task)
  {
    test::Sql sql(path);
    std::vector<std::string> out;
    if (sql.integer("SELECT count(*) FROM sqlite_master WHERE name = 'housekeep_runs'") == 0) {
      return out;
    }
    SQLite::Statement q(sql.db(), "SELECT started_at FROM housekeep_runs WHERE job = ? AND task = ? ORDER BY id");
    q.bind(1, job_name);
    q.bind(2, task);
    while (q.executeStep()) {
      out.push_back(q.getColumn(0).getString());
    }
    return out;
  }
};

} // namespace

TEST_CASE("daemon: a week of the default jobs fires exactly the expected times", "[daemon]")
{
  // Monday 2026-06-15 12:00 UTC to Monday 2026-06-22 12:00 UTC.
  Harness h(parse_utc("2026-06-15T12:00:00Z"), parse_utc("2026-06-22T12:00:00Z"));
  const Config config; // built-in jobs: daily_housekeeping, weekly_cleanup, statistics
  REQUIRE(h.run(config) == 0);

  const auto daily = h.fired("daily_housekeeping", "stats");
  REQUIRE(daily.size() == 7);
  CHECK(daily.front() == "2026-06-16T02:00:00.000Z");
  CHECK(daily.back() == "2026-06-22T02:00:00.000Z");
  // `all` runs the four tasks, each recorded.
  CHECK(h.fired("daily_housekeeping", "conversations").size() == 7);

  const auto weekly = h.fired("weekly_cleanup", "conversations");
  REQUIRE(weekly.size() == 1);
  CHECK(weekly[0] == "2026-06-21T03:00:00.000Z");

  const auto stats = h.fired("statistics", "stats");
  REQUIRE(stats.size() == 27); // every 6 hours from the start; the end instant itself is excluded
  CHECK(stats.front() == "2026-06-15T18:00:00.000Z");
  CHECK(stats.back() == "2026-06-22T06:00:00.000Z");

  CHECK(h.notifier.ready_calls == 1);
  CHECK(h.notifier.stopping_calls == 1);
  // No polling: one wait per firing and per daily heartbeat.
  CHECK(h.waiter.waits <= 7 + 1 + 27 + 7 + 1);
  CHECK(test::Sql(h.path).integer("SELECT count(*) FROM housekeep_replicas WHERE status = 'stopped'") == 1);
}

TEST_CASE("daemon: a daily job fires once per local day across DST changes", "[daemon]")
{
  for (const std::string zone : {"America/New_York", "Europe/Berlin", "Australia/Sydney"}) {
    // Covers the March and the October/November changes of both hemispheres.
    Harness h(parse_utc("2026-03-01T00:00:00Z"), parse_utc("2026-11-10T00:00:00Z"));
    Config config;
    config.defaults.history_keep = days(400); // keep every run for the count below
    config.jobs = {test::job("nightly", "stats", "30 2 * * *", zone)};
    REQUIRE(h.run(config) == 0);
    const auto* tz = find_zone(zone);
    std::set<std::string> days;
    const auto fired = h.fired("nightly", "stats");
    for (const auto& t : fired) {
      const std::string local = format_in_zone(parse_utc(t), tz);
      INFO(zone << " " << local);
      CHECK(days.insert(local.substr(0, 10)).second); // never twice on one local day
    }
    // 254 local nights: March 1st to November 9th in New York and Berlin; in Sydney (UTC+11
    // at both ends) March 2nd to November 10th.
    CHECK(fired.size() == 254U);
    CHECK(days.size() == 254U);
  }
}

TEST_CASE("daemon: a firing due while its job still runs is skipped and logged", "[daemon]")
{
  Harness h(parse_utc("2026-06-15T12:00:00Z"), parse_utc("2026-06-15T12:10:30Z"));
  {
    test::Sql sql(h.path);
    sql.exec("INSERT INTO users VALUES (1, 'a', 'a', 1, '2026-01-01 00:00:00')");
    for (int i = 1; i <= 5; ++i) {
      sql.exec(fmt::format("INSERT INTO conversations VALUES ({}, 1, 't', '2026-01-01 00:00:00')", i));
    }
    sql.exec("INSERT INTO conversations VALUES (100, 1, 'recent', '2026-06-15 11:00:00')");
  }
  Config config;
  config.defaults.batch_size = 1;
  config.defaults.batch_time = Millis{0}; // fixed-size batches pause the whole `sleep`
  config.defaults.sleep = seconds(40);    // a pause after each of the 5 full batches: 200 s
  config.jobs = {test::job("purge", "conversations", "* * * * *")};
  REQUIRE(h.run(config) == 0);
  const auto fired = h.fired("purge", "conversations");
  REQUIRE(fired.size() >= 2);
  CHECK(fired[0] == "2026-06-15T12:01:00.000Z");
  // 12:02, 12:03 and 12:04 came due during the first run (12:01:00-12:04:20): skipped, not
  // queued behind it.
  CHECK(fired[1] == "2026-06-15T12:05:00.000Z");
  CHECK_THAT(h.log.text(), Catch::Contains("purge: skipped 3 firings due from 2026-06-15T12:02:00+00:00 while it "
                                           "was still running"));
  CHECK(test::Sql(h.path).integer("SELECT count(*) FROM conversations") == 1);
}

TEST_CASE("daemon: catch-up after downtime", "[daemon]")
{
  const TimePoint t0 = parse_utc("2026-06-15T12:00:00Z");
  // First life: two hours, no firing of the nightly job; its next slot is recorded.
  auto first_life = [&](Harness& h, const Config& config) {
    REQUIRE(h.run(config) == 0);
    CHECK(h.fired("nightly", "stats").empty());
    CHECK(test::Sql(h.path).integer("SELECT count(*) FROM housekeep_jobs WHERE job = 'nightly' AND next_fire = "
                                    "'2026-06-16T02:00:00.000Z'") == 1);
  };
  Config config;
  config.jobs = {test::job("nightly", "stats", "0 2 * * *")};
  config.jobs[0].misfire_grace = hours(1);

  SECTION("once: missed nights within grace coalesce into one run")
  {
    Harness h(t0, t0 + hours(2));
    first_life(h, config);
    // Down for three nights; back at 02:40 on the 18th, 40 minutes after the newest slot.
    h.clock.set(parse_utc("2026-06-18T02:40:00Z"));
    h.stop.clear();
    REQUIRE(h.run(config, true) == 0);
    const auto fired = h.fired("nightly", "stats");
    REQUIRE(fired.size() == 1);
    CHECK(fired[0] == "2026-06-18T02:40:00.000Z");
    CHECK_THAT(h.log.text(), Catch::Contains("nightly: missed the firing due 2026-06-16T02:00:00+00:00"));
    CHECK_THAT(h.log.text(), Catch::Contains("catching up 3 missed firings with one run now"));
    CHECK(test::Sql(h.path).integer("SELECT count(*) FROM housekeep_jobs WHERE job = 'nightly' AND next_fire = "
                                    "'2026-06-19T02:00:00.000Z'") == 1);
    // The two older nights count as missed, but the job ran: healthy.
    const auto store = open_store(parse_database_url(h.path), OpenOptions{});
    const auto plan = plan_jobs(config, h.clock.now(), 1, store.get()).at(0);
    CHECK(plan.missed == 2);
    CHECK(plan.last_missed == parse_utc("2026-06-17T02:00:00Z"));
    CHECK(plan.health == JobHealth::ok);
  }
  SECTION("once: beyond grace nothing runs, every missed slot is logged")
  {
    Harness h(t0, t0 + hours(2));
    first_life(h, config);
    h.clock.set(parse_utc("2026-06-18T12:00:00Z"));
    h.stop.clear();
    REQUIRE(h.run(config, true) == 0);
    CHECK(h.fired("nightly", "stats").empty());
    const std::string log = h.log.text();
    CHECK_THAT(log, Catch::Contains("missed the firing due 2026-06-17T02:00:00+00:00 (newest is more than "
                                    "misfire_grace 1h ago)"));
    CHECK_THAT(log, Catch::Contains("missed the firing due 2026-06-18T02:00:00+00:00"));
    // scheduler-info --check sees it: every firing of the last period was missed.
    const auto store = open_store(parse_database_url(h.path), OpenOptions{});
    const auto plan = plan_jobs(config, h.clock.now(), 1, store.get()).at(0);
    CHECK(plan.missed == 3);
    CHECK(plan.last_missed == parse_utc("2026-06-18T02:00:00Z"));
    CHECK(plan.health == JobHealth::missed);
    CHECK(plan.unhealthy());
    CHECK_THAT(plan.health_reason, Catch::Contains("did not run its last slot, due 2026-06-18T02:00:00+00:00"));
    // Next night it runs again, and is healthy.
    h.stop.clear();
    h.waiter.end_at(parse_utc("2026-06-19T03:00:00Z"));
    REQUIRE(h.run(config) == 0);
    CHECK(h.fired("nightly", "stats") == std::vector<std::string>{"2026-06-19T02:00:00.000Z"});
    const auto after = plan_jobs(config, h.clock.now(), 1, store.get()).at(0);
    CHECK(after.health == JobHealth::ok);
    CHECK(after.missed == 3);
  }
  SECTION("skip: missed firings do not run even within grace")
  {
    config.jobs[0].catch_up = CatchUp::skip;
    Harness h(t0, t0 + hours(2));
    first_life(h, config);
    h.clock.set(parse_utc("2026-06-18T02:40:00Z"));
    h.stop.clear();
    REQUIRE(h.run(config, true) == 0);
    CHECK(h.fired("nightly", "stats").empty());
    CHECK_THAT(h.log.text(), Catch::Contains("(catch_up is skip)"));
    const auto store = open_store(parse_database_url(h.path), OpenOptions{});
    CHECK(plan_jobs(config, h.clock.now(), 1, store.get()).at(0).health == JobHealth::missed);
  }
}

TEST_CASE("daemon: a clock a year ahead, then corrected, runs the job at its next real slot", "[daemon]")
{
  const TimePoint t0 = parse_utc("2026-06-15T12:00:00Z");
  Harness h(t0, t0 + days(5));
  Config config;
  config.jobs = {test::job("nightly", "stats", "0 2 * * *", "UTC")};
  // An hour in, the clock jumps a year ahead (the missed slots are past their grace, and the
  // job is next due in 2027); a minute later it is corrected back.
  h.waiter.at(t0 + hours(1), {Wake::clock_changed, [&] { h.clock.set(t0 + days(365) + hours(1)); }});
  h.waiter.at(t0 + hours(1) + minutes(1), {Wake::clock_changed, [&] { h.clock.set(t0 + hours(1) + minutes(1)); }});
  REQUIRE(h.run(config) == 0);
  const auto fired = h.fired("nightly", "stats");
  INFO(fmt::format("{}", fmt::join(fired, ", ")));
  CHECK(fired == std::vector<std::string>{"2026-06-16T02:00:00.000Z", "2026-06-17T02:00:00.000Z",
                                          "2026-06-18T02:00:00.000Z", "2026-06-19T02:00:00.000Z",
                                          "2026-06-20T02:00:00.000Z"});
  CHECK(h.log.text().find("was the clock ahead?") != std::string::npos);
}

TEST_CASE("daemon: a clock set back by less than a period does not run the job twice", "[daemon]")
{
  const TimePoint t0 = parse_utc("2026-06-15T01:00:00Z");
  Harness h(t0, t0 + hours(20));
  Config config;
  config.jobs = {test::job("nightly", "stats", "0 2 * * *", "UTC")};
  // The 02:00 run is done at 02:30, when the clock is set back an hour.
  h.waiter.at(t0 + minutes(90), {Wake::clock_changed, [&] { h.clock.set(t0 + minutes(30)); }});
  REQUIRE(h.run(config) == 0);
  CHECK(h.fired("nightly", "stats") == std::vector<std::string>{"2026-06-15T02:00:00.000Z"});
}

TEST_CASE("daemon: a forward jump of the wall clock is one catch-up, not hundreds of runs", "[daemon]")
{
  const TimePoint t0 = parse_utc("2026-06-15T12:00:00Z");
  Harness h(t0, t0 + hours(80));
  Config config;
  config.jobs = {test::job("often", "stats", "*/5 * * * *")};
  config.jobs[0].misfire_grace = hours(1);
  // At 12:07 the clock steps 3 days ahead (a resume from suspend).
  h.waiter.at(t0 + minutes(7), {Wake::clock_changed, [&] { h.clock.set(t0 + days(3) + minutes(7)); }});
  REQUIRE(h.run(config) == 0);
  const auto fired = h.fired("often", "stats");
  // 12:05 before the jump, one catch-up at the jump, then every 5 minutes until 20:00.
  REQUIRE(fired.size() >= 3);
  CHECK(fired[0] == "2026-06-15T12:05:00.000Z");
  CHECK(fired[1] == "2026-06-18T12:07:00.000Z");
  CHECK(fired[2] == "2026-06-18T12:10:00.000Z");
  CHECK(fired.size() == 2 + 94);
  // 12:10 on the 15th to 12:05 on the 18th: 864 slots, one run.
  CHECK_THAT(h.log.text(), Catch::Contains("catching up 864 missed firings with one run now"));
  CHECK_THAT(h.log.text(), Catch::Contains("missed 863 firings in all"));
}

TEST_CASE("daemon: SIGHUP with a broken configuration keeps the old jobs", "[daemon]")
{
  const TimePoint t0 = parse_utc("2026-06-15T12:00:00Z");
  Harness h(t0, t0 + minutes(30));
  Config config;
  config.jobs = {test::job("tick", "stats", "*/10 * * * *")};
  int reloads = 0;
  h.reload = [&]() -> Config {
    ++reloads;
    if (reloads == 1) {
      throw ConfigError("housekeep.toml:3:12: jobs.tick.schedule: minute: 61 is out of range 0-59");
    }
    Config fresh;
    fresh.jobs = {test::job("tock", "stats", "*/15 * * * *")};
    return fresh;
  };
  h.waiter.at(t0 + minutes(5), {Wake::reload, nullptr});
  h.waiter.at(t0 + minutes(12), {Wake::reload, nullptr});
  REQUIRE(h.run(config) == 0);
  CHECK(reloads == 2);
  CHECK_THAT(h.log.text(), Catch::Contains("configuration not reloaded, the previous one stays in force"));
  // tick kept firing after the bad reload (12:10), tock replaced it after the good one (12:15;
  // 12:30 is the end of the test).
  CHECK(h.fired("tick", "stats") == std::vector<std::string>{"2026-06-15T12:10:00.000Z"});
  CHECK(h.fired("tock", "stats") == std::vector<std::string>{"2026-06-15T12:15:00.000Z"});
}

TEST_CASE("daemon: a stop during a purge ends it after the batch, recorded as interrupted", "[daemon]")
{
  const TimePoint t0 = parse_utc("2026-06-15T12:00:00Z");
  Harness h(t0, t0 + hours(1));
  {
    test::Sql sql(h.path);
    sql.exec("INSERT INTO users VALUES (1, 'a', 'a', 1, '2026-01-01 00:00:00')");
    for (int i = 1; i <= 10; ++i) {
      sql.exec(fmt::format("INSERT INTO conversations VALUES ({}, 1, 't', '2026-01-01 00:00:00')", i));
    }
    sql.exec("INSERT INTO conversations VALUES (100, 1, 'recent', '2026-06-15 11:00:00')");
  }
  // A clock whose pauses between batches deliver SIGTERM after the third batch.
  struct StoppingClock final : Clock {
    const test::FakeClock& inner;
    StopFlag& stop;
    mutable int sleeps = 0;
    StoppingClock(const test::FakeClock& c, StopFlag& s) : inner(c), stop(s) {}
    TimePoint now() const override { return inner.now(); }
    void sleep_for(Millis d) const override
    {
      inner.sleep_for(d);
      if (++sleeps == 3) {
        stop.request(StopReason::interrupted);
      }
    }
  } clock(h.clock, h.stop);
  Config config;
  config.defaults.batch_size = 1;
  config.defaults.sleep = seconds(1);
  config.jobs = {test::job("purge", "conversations", "*/5 * * * *")};
  REQUIRE(h.run(config, clock) == 0);
  test::Sql sql(h.path);
  CHECK(sql.integer("SELECT count(*) FROM housekeep_runs WHERE job = 'purge' AND status = 'interrupted'") == 1);
  CHECK(sql.integer("SELECT count(*) FROM conversations") == 7); // four batches committed, none cut in half
  CHECK(sql.integer("SELECT last_status = 'interrupted' FROM housekeep_jobs WHERE job = 'purge'") == 1);
  CHECK(h.notifier.stopping_calls == 1);
}

TEST_CASE("daemon: a slot another daemon claimed is not run here: done, it is left, dead, it is taken over", "[daemon]")
{
  const TimePoint t0 = parse_utc("2026-06-15T12:00:00Z");
  Harness h(t0, t0 + days(3));
  test::Sql sql(h.path);
  RunRecord manual; // housekeep_runs exists from an earlier manual run
  manual.task = "stats";
  manual.started_at = manual.finished_at = t0 - days(1);
  open_store(parse_database_url(h.path), OpenOptions{})->history().record_run(manual);
  // Another daemon, on another host, claims the first two nightly slots before this one
  // wakes: the first it finishes; during the second it dies, and its lease runs out.
  const auto claim = [&](const std::string& slot, const std::string& finished) {
    sql.exec("CREATE TABLE IF NOT EXISTS housekeep_claims (job TEXT NOT NULL, slot TEXT NOT NULL, holder TEXT NOT "
             "NULL, host TEXT NOT NULL, pid BIGINT NOT NULL, claimed_ms BIGINT NOT NULL, lease_until BIGINT NOT NULL, "
             "finished_ms BIGINT, status TEXT NOT NULL, takeovers BIGINT NOT NULL DEFAULT 0, progress TEXT, PRIMARY "
             "KEY (job, slot))");
    sql.exec(fmt::format("INSERT INTO housekeep_claims VALUES ('nightly', '{}', 'db-host/4242/x', 'db-host', 4242, 0, "
                         "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) + 60000, {}, 'running', 0, NULL)",
                         slot, finished));
  };
  h.waiter.at(parse_utc("2026-06-16T01:00:00Z"), {Wake::deadline, [&] { claim("2026-06-16T02:00:00.000Z", "1"); }});
  h.waiter.at(parse_utc("2026-06-17T01:00:00Z"), {Wake::deadline, [&] {
                                                    claim("2026-06-17T02:00:00.000Z", "NULL");
                                                    sql.exec("INSERT INTO housekeep_runs (job, task, started_at, "
                                                             "finished_at, status, host, pid) VALUES ('nightly', "
                                                             "'stats', '2026-06-17T02:00:00.000Z', "
                                                             "'2026-06-17T02:00:00.000Z', 'running', 'db-host', 4242)");
                                                  }});
  // This daemon looks again when the lease would run out (a minute on its clock); by then
  // (the database's clock, moved here) the other daemon has not renewed it.
  h.waiter.at(parse_utc("2026-06-17T02:00:30Z"), {Wake::deadline, [&] {
                                                    sql.exec("UPDATE housekeep_claims SET lease_until = lease_until - "
                                                             "120000 WHERE finished_ms IS NULL");
                                                  }});
  Config config;
  config.jobs = {test::job("nightly", "stats", "0 2 * * *")};
  REQUIRE(h.run(config) == 0);
  // The first slot: not here. The second: taken over once the lease would have run out (a
  // minute, by the database's clock, read when the claim was lost). The third: here.
  const auto fired = h.fired("nightly", "stats");
  INFO(h.log.text());
  REQUIRE(fired.size() == 3);
  CHECK(fired[0] == "2026-06-17T02:00:00.000Z"); // the other daemon's run, abandoned below
  CHECK_THAT(fired[1], Catch::StartsWith("2026-06-17T02:01:00"));
  CHECK(fired[2] == "2026-06-18T02:00:00.000Z");
  CHECK(sql.integer("SELECT count(*) FROM housekeep_claims WHERE status = 'ok' AND holder <> 'db-host/4242/x'") == 2);
  CHECK(sql.integer("SELECT takeovers FROM housekeep_claims WHERE slot = '2026-06-17T02:00:00.000Z'") == 1);
  CHECK(sql.integer("SELECT count(*) FROM housekeep_runs WHERE pid = 4242 AND status = 'abandoned' AND error LIKE "
                    "'%stopped renewing its claim%'") == 1);
  CHECK_THAT(h.log.text(), Catch::Contains("took over the slot due 2026-06-17T02:00:00"));
  CHECK_THAT(h.log.text(), Catch::Contains("from pid 4242 on db-host"));
  // Each daemon records its heartbeat; this one stopped cleanly.
  CHECK(sql.integer("SELECT count(*) FROM housekeep_replicas WHERE status = 'stopped'") == 1);
}

TEST_CASE("daemon: a job with jitter runs its offset after each slot, and the claim keeps the slot's time", "[daemon]")
{
  const TimePoint t0 = parse_utc("2026-06-15T12:00:00Z");
  Harness h(t0, t0 + days(2));
  Config config;
  config.jobs = {test::job("nightly", "stats", "0 2 * * *")};
  config.jobs[0].jitter = minutes(30);
  const Millis offset = resolve_job(config.jobs[0], config).offset;
  REQUIRE(offset > Millis(0)); // this name's offset; a zero one would test nothing
  REQUIRE(h.run(config) == 0);
  CHECK(h.fired("nightly", "stats") ==
        std::vector<std::string>{format_utc(parse_utc("2026-06-16T02:00:00Z") + offset),
                                 format_utc(parse_utc("2026-06-17T02:00:00Z") + offset)});
  test::Sql sql(h.path);
  CHECK(sql.integer("SELECT count(*) FROM housekeep_claims WHERE job = 'nightly' AND slot IN "
                    "('2026-06-16T02:00:00.000Z', '2026-06-17T02:00:00.000Z') AND status = 'ok'") == 2);
  CHECK(sql.integer("SELECT missed FROM housekeep_jobs WHERE job = 'nightly'") == 0);
}

TEST_CASE("daemon: after the server restarts, it opens the store again", "[daemon]")
{
  const TimePoint t0 = parse_utc("2026-06-15T12:00:00Z");
  Harness h(t0, t0 + days(3));
  RestartingServer server(h.path);
  h.open = [&] { return server.open(); };
  // The server restarts in the night before the second firing; the daemon's connection is gone.
  h.waiter.at(parse_utc("2026-06-17T01:00:00Z"), {Wake::deadline, [&] { server.restart(); }});
  Config config;
  config.jobs = {test::job("nightly", "stats", "0 2 * * *")};
  REQUIRE(h.run(config) == 0);
  CHECK(h.fired("nightly", "stats") ==
        std::vector<std::string>{"2026-06-16T02:00:00.000Z", "2026-06-17T02:00:00.000Z", "2026-06-18T02:00:00.000Z"});
  CHECK(server.opened == 2);
  CHECK_THAT(h.log.text(), Catch::Contains("lost its connection since the daemon opened it; opening it again"));
  CHECK(test::Sql(h.path).integer("SELECT count(*) FROM housekeep_runs WHERE status <> 'ok'") == 0);
}
