#include "housekeep/error.hpp"
#include "housekeep/history.hpp"
#include "housekeep/run.hpp"

#include "support/temp_db.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <thread>

using namespace housekeep;
using namespace std::chrono;

namespace {

struct Db {
  test::TempDir dir;
  std::string path = dir.file("app.db");
  Db()
  {
    test::Sql sql(path);
    create_classic_schema(sql);
    sql.exec("INSERT INTO users VALUES (1, 'a', 'a', 1, '2026-01-01 00:00:00');"
             "INSERT INTO conversations VALUES (1, 1, 't', '2026-01-01 00:00:00');"
             "INSERT INTO messages VALUES (1, 1, 'r', 'c', '2026-01-01 00:00:00', NULL);"
             // Recent rows that every policy keeps.
             "INSERT INTO users VALUES (2, 'b', 'b', 1, '2026-06-15 11:00:00');"
             "INSERT INTO conversations VALUES (2, 2, 't', '2026-06-15 11:00:00');"
             "INSERT INTO messages VALUES (2, 2, 'r', 'c', '2026-06-15 11:00:00', NULL);");
  }
  std::unique_ptr<Store> open(AccessMode mode = AccessMode::read_write) const
  {
    return open_store(parse_database_url(path), OpenOptions{mode, milliseconds(500)});
  }
};

RunRequest request_for(const std::vector<std::string>& tasks, bool dry_run = false)
{
  RunRequest request;
  request.tasks = resolve_tasks(test::default_config(), tasks);
  request.options.dry_run = dry_run;
  return request;
}

// A clock whose sleeping lets another process's lock go, as if that run finished.
class ReleasingClock final : public Clock {
public:
  ReleasingClock(std::unique_ptr<Lock>& held) : m_held(held) {}
  TimePoint now() const override { return m_now; }
  void sleep_for(milliseconds d) const override
  {
    m_now += d;
    m_held.reset();
  }

private:
  std::unique_ptr<Lock>& m_held;
  mutable TimePoint m_now = test::test_now();
};

} // namespace

TEST_CASE("task names: all expands in table order / unknown names are usage errors", "[run]")
{
  auto names = [](const std::vector<std::string>& given) {
    std::vector<std::string> out;
    for (const auto& task : resolve_tasks(test::default_config(), given)) {
      out.push_back(task.name);
    }
    return out;
  };
  CHECK(names({"all"}) == std::vector<std::string>{"conversations", "messages", "users", "stats"});
  CHECK(names({"stats", "conversations", "stats"}) == std::vector<std::string>{"conversations", "stats"});
  CHECK_THROWS_AS(resolve_tasks(test::default_config(), {"conversation"}), UsageError);
  CHECK_THROWS_AS(resolve_tasks(test::default_config(), {}), UsageError);
  try {
    resolve_tasks(test::default_config(), {"conversation"});
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()) == "unknown task 'conversation'");
    CHECK(e.hint() == "did you mean 'conversations'?");
  }
}

TEST_CASE("a second run while the purge lock is held exits 75 naming the holder", "[run]")
{
  Db db;
  auto holder_store = db.open();
  LockAttempt held = holder_store->try_lock(LockHolder{31337, "db-host", "run --task all", "2026-06-15T11:59:00.000Z"},
                                            LockScope::purge);
  REQUIRE(held.lock);
  auto store = db.open();
  test::FakeClock clock(test::test_now());
  test::CapturedLog log;
  try {
    run_tasks(*store, Config{}, request_for({"conversations"}), clock, log.logger());
    FAIL("no exception");
  } catch (const TempFailError& e) {
    CHECK(std::string(e.what()).find("pid 31337 on db-host (run --task all, since 2026-06-15T11:59:00.000Z)") !=
          std::string::npos);
  }
  // A dry run and stats take no lock.
  CHECK(run_tasks(*store, Config{}, request_for({"all"}, true), clock, log.logger()).ok());
  CHECK(run_tasks(*store, Config{}, request_for({"stats"}), clock, log.logger()).ok());
  // Waiting gives up at its deadline.
  RunRequest waiting = request_for({"conversations"});
  waiting.lock_wait = seconds(2);
  CHECK_THROWS_AS(run_tasks(*store, Config{}, waiting, clock, log.logger()), TempFailError);
  CHECK(clock.now() >= test::test_now() + seconds(2));
  CHECK(test::Sql(db.path).integer("SELECT count(*) FROM conversations") == 2);
}

TEST_CASE("wait takes the lock once its holder lets go", "[run]")
{
  Db db;
  auto holder_store = db.open();
  LockAttempt held = holder_store->try_lock(LockHolder{1, "h", "run", "t"}, LockScope::purge);
  REQUIRE(held.lock);
  auto store = db.open();
  ReleasingClock clock(held.lock);
  test::CapturedLog log;
  RunRequest waiting = request_for({"conversations"});
  waiting.lock_wait = minutes(10);
  const auto report = run_tasks(*store, Config{}, waiting, clock, log.logger());
  CHECK(report.ok());
  CHECK(log.text().find("waiting for the purge lock held by pid 1 on h") != std::string::npos);
  CHECK(test::Sql(db.path).integer("SELECT count(*) FROM conversations") == 1);
}

TEST_CASE("guards refuse before the first delete: max_delete, and emptying a table", "[run][guard]")
{
  Db db;
  test::Sql sql(db.path);
  for (int i = 10; i < 20; ++i) {
    sql.exec(fmt::format("INSERT INTO conversations VALUES ({}, 1, 't', '2026-01-02 00:00:00')", i));
  }
  const std::string before = test::file_bytes(db.path);
  auto store = db.open();
  test::FakeClock clock(test::test_now());
  test::CapturedLog log;

  // `all` would delete 11 conversations, 1 message and no users (user 1 is active).
  RunRequest request = request_for({"all"});
  request.options.max_delete = 11;
  try {
    run_tasks(*store, Config{}, request, clock, log.logger());
    FAIL("not refused");
  } catch (const RefusedError& e) {
    CHECK_THAT(e.what(), Catch::Contains("would delete 12 rows (1 messages, 11 conversations"));
    CHECK_THAT(e.what(), Catch::Contains("more than max_delete 11"));
  }
  Config config;
  config.defaults.max_delete = 5; // the config key, when no flag is given
  CHECK_THROWS_AS(run_tasks(*store, config, request_for({"conversations"}), clock, log.logger()), RefusedError);
  CHECK(test::file_bytes(db.path) == before); // refused means nothing written, not even history

  // A policy that would empty a table is refused unless allowed.
  RunOptions wide;
  wide.older_than = minutes(30);
  RunRequest emptying = request_for({"conversations"});
  emptying.options = wide;
  try {
    run_tasks(*store, Config{}, emptying, clock, log.logger());
    FAIL("not refused");
  } catch (const RefusedError& e) {
    CHECK_THAT(e.what(), Catch::Contains("would delete every row of 'messages' (2 rows)")); // children first
  }
  CHECK(sql.integer("SELECT count(*) FROM conversations") == 12);

  // Within the limit the run goes ahead.
  request.options.max_delete = 12;
  REQUIRE(run_tasks(*store, Config{}, request, clock, log.logger()).ok());
  CHECK(sql.integer("SELECT count(*) FROM conversations") == 1);
  CHECK(sql.integer("SELECT count(*) FROM messages") == 1);

  // --allow-empty lets a policy take the last rows.
  CHECK_THROWS_AS(run_tasks(*store, Config{}, emptying, clock, log.logger()), RefusedError);
  // allow_empty on the task: every table it deletes from may empty, unless another task of
  // the run (messages, here) deletes from the same table without allowing it.
  Config allowing;
  builtin_task(allowing, "conversations").set("allow_empty", true);
  RunRequest both;
  both.tasks = resolve_tasks(allowing, {"conversations", "messages"});
  both.options = wide;
  try {
    run_tasks(*store, allowing, both, clock, log.logger());
    FAIL("not refused");
  } catch (const RefusedError& e) {
    CHECK_THAT(e.what(), Catch::Contains("would delete every row of 'messages'"));
  }
  CHECK(sql.integer("SELECT count(*) FROM conversations") == 1);
  RunRequest alone;
  alone.tasks = resolve_tasks(allowing, {"conversations"});
  alone.options = wide;
  CHECK(run_tasks(*store, allowing, alone, clock, log.logger()).ok());
  CHECK(sql.integer("SELECT count(*) FROM conversations") == 0);
}

TEST_CASE("allow_empty on a job waives the emptying guard for its runs only", "[run][guard]")
{
  Db db;
  test::Sql sql(db.path);
  auto store = db.open();
  const test::FakeClock clock(test::test_now());
  test::CapturedLog log;
  Config config;
  builtin_task(config, "conversations").set("older_than", Duration{minutes(1), "1m"});
  config.jobs = {test::job("drain", "conversations", "0 4 * * *")};
  RunRequest request;
  request.tasks = resolve_tasks(config, {"conversations"});
  request.job = "drain";
  CHECK_THROWS_AS(run_tasks(*store, config, request, clock, log.logger()), RefusedError);
  config.jobs[0].allow_empty = true;
  request.job = "";
  CHECK_THROWS_AS(run_tasks(*store, config, request, clock, log.logger()), RefusedError); // a manual run
  request.job = "drain";
  CHECK(run_tasks(*store, config, request, clock, log.logger()).ok());
  CHECK(sql.integer("SELECT count(*) FROM conversations") == 0);
}

TEST_CASE("the emptying guard looks past the newest rows before it refuses", "[run][guard]")
{
  Db db;
  test::Sql sql(db.path);
  // More old conversations than the guard's first look takes, all with keys above the one
  // recent conversation (2), which keeps the table from being emptied.
  sql.exec("BEGIN");
  for (int i = 10; i < 1600; ++i) {
    sql.exec(fmt::format("INSERT INTO conversations VALUES ({}, 1, 't', '2026-01-02 00:00:00')", i));
  }
  sql.exec("COMMIT");
  auto store = db.open();
  test::FakeClock clock(test::test_now());
  test::CapturedLog log;
  REQUIRE(run_tasks(*store, Config{}, request_for({"conversations"}), clock, log.logger()).ok());
  CHECK(sql.integer("SELECT count(*) FROM conversations") == 1);
  CHECK(sql.integer("SELECT id FROM conversations") == 2);

  // The same with the recent one gone old too: every row would go, and the run is refused.
  sql.exec("BEGIN");
  for (int i = 10; i < 1600; ++i) {
    sql.exec(fmt::format("INSERT INTO conversations VALUES ({}, 1, 't', '2026-01-02 00:00:00')", i));
  }
  sql.exec("UPDATE conversations SET created_at = '2026-01-03 00:00:00' WHERE id = 2");
  sql.exec("INSERT INTO messages VALUES (3, NULL, 'r', 'c', '2026-06-15 11:00:00', NULL)"); // stays
  sql.exec("COMMIT");
  try {
    run_tasks(*store, Config{}, request_for({"conversations"}), clock, log.logger());
    FAIL("not refused");
  } catch (const RefusedError& e) {
    CHECK_THAT(e.what(), Catch::Contains("would delete every row of 'conversations' (1,591 rows)"));
  }
  CHECK(sql.integer("SELECT count(*) FROM conversations") == 1591);
}

TEST_CASE("read-only database: a real purge is refused / stats and dry runs work", "[run]")
{
  Db db;
  const std::string before = test::file_bytes(db.path);
  auto store = db.open(AccessMode::read_only);
  test::FakeClock clock(test::test_now());
  test::CapturedLog log;
  CHECK_THROWS_AS(run_tasks(*store, Config{}, request_for({"all"}), clock, log.logger()), PermissionError);
  const auto stats = run_tasks(*store, Config{}, request_for({"stats"}), clock, log.logger());
  CHECK(stats.ok());
  CHECK(log.text().find("read-only; this run is not recorded") != std::string::npos);
  CHECK(run_tasks(*store, Config{}, request_for({"all"}, true), clock, log.logger()).ok());
  CHECK(test::file_bytes(db.path) == before);
}

TEST_CASE("real runs are recorded in housekeep_runs and dry runs are not", "[run]")
{
  Db db;
  auto store = db.open();
  test::FakeClock clock(test::test_now());
  test::CapturedLog log;
  run_tasks(*store, Config{}, request_for({"all"}, true), clock, log.logger());
  CHECK(store->history().runs(RunQuery{}).empty());
  RunRequest request = request_for({"conversations", "stats"});
  request.job = "nightly";
  run_tasks(*store, Config{}, request, clock, log.logger());
  const auto runs = store->history().runs(RunQuery{});
  REQUIRE(runs.size() == 2);
  CHECK(runs[1].task == "conversations");
  CHECK(runs[1].job == "nightly");
  CHECK(runs[1].status == RunStatus::ok);
  CHECK(runs[1].deleted.at("conversations") == 1);
  CHECK(runs[1].deleted.at("messages") == 1);
  CHECK(runs[0].task == "stats");

  // A failure is recorded with its message.
  run_tasks(*store, parse_config("[tasks.users]\ntable = \"members\"\n", "c.toml"), request_for({"users"}), clock,
            log.logger());
  const auto failed = store->history().runs(RunQuery{.limit = 1, .task = "users", .job = ""});
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].status == RunStatus::failed);
  CHECK(failed[0].error.find("table 'members' does not exist") != std::string::npos);
}

TEST_CASE("phases add up by name and describe themselves (leaving out what took no time)", "[run]")
{
  TaskResult result;
  result.add_phase("deleting", microseconds(1'500'000), microseconds(900'000));
  result.add_phase("pausing", microseconds(400), microseconds(0));
  result.add_phase("deleting", microseconds(600'000), microseconds(100'000));
  REQUIRE(result.phases.size() == 2);
  CHECK(result.phases[0].wall == microseconds(2'100'000));
  CHECK(describe_phases(result.phases) == "deleting 2.10s (CPU 1.00s)");
  {
    const PhaseTimer timer(result, "sleeping");
    std::this_thread::sleep_for(milliseconds(20));
  }
  REQUIRE(result.phases.size() == 3);
  CHECK(result.phases[2].wall >= milliseconds(20));
  CHECK(result.phases[2].cpu < milliseconds(15)); // asleep, not working
}
