// Backup retention at its edges, with a fake clock: a backup exactly keep_days old stays,
// one a second older goes; the newest keep_last stay whatever their age; files not named
// like the task's own backups are never touched.
#include "housekeep/run.hpp"
#include "housekeep/task.hpp"
#include "housekeep/task_kind.hpp"

#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace housekeep;
using namespace std::chrono;

namespace {

void touch(const std::string& path)
{
  std::ofstream(path) << "old backup\n";
}

} // namespace

TEST_CASE("backup retention: the boundary, keep_last, and foreign files", "[backup]")
{
  namespace fs = std::filesystem;
  test::TempDir dir;
  const std::string db = dir.file("app.db");
  {
    test::Sql sql(db);
    create_classic_schema(sql);
    sql.exec("INSERT INTO users VALUES (1, 'a', 'a', 1, '2026-01-01 00:00:00')");
  }
  const std::string backups = dir.file("backups");
  fs::create_directory(backups);
  const TimePoint now = test::test_now();
  const std::string at_boundary = backups + "/app-" + format_utc_stamp(now - hours(24 * 30)) + ".db";
  const std::string past_boundary = backups + "/app-" + format_utc_stamp(now - hours(24 * 30) - seconds(1)) + ".db";
  const std::string ancient = backups + "/app-" + format_utc_stamp(now - hours(24 * 400)) + ".db";
  const std::string foreign[] = {backups + "/app-20200101T000000Z.db.gz", backups + "/other-20200101T000000Z.db",
                                 backups + "/notes.txt"};
  for (const auto& path : {at_boundary, past_boundary, ancient}) {
    touch(path);
  }
  for (const auto& path : foreign) {
    touch(path);
  }

  Config config;
  config.tasks.push_back(task_with_defaults(*find_kind("backup"), "backup")
                           .set("directory", backups)
                           .set("keep_days", std::int64_t{30})
                           .set("keep_last", std::int64_t{1}));

  auto store = open_store(parse_database_url(db), OpenOptions{});
  test::FakeClock clock(now);
  test::CapturedLog log;
  RunRequest request;
  request.tasks = resolve_tasks(config, {"backup"});
  const auto report = run_tasks(*store, config, request, clock, log.logger());
  REQUIRE(report.ok());
  const std::string made = backups + "/app-" + format_utc_stamp(now) + ".db";
  CHECK(fs::exists(made));
  CHECK(fs::exists(at_boundary));
  CHECK_FALSE(fs::exists(past_boundary));
  CHECK_FALSE(fs::exists(ancient));
  for (const auto& path : foreign) {
    CHECK(fs::exists(path));
  }
  test::Sql copy(made);
  CHECK(copy.integer("SELECT count(*) FROM users") == 1);

  // keep_last protects the newest ones whatever their age.
  config.tasks.back().set("keep_days", std::int64_t{1}).set("keep_last", std::int64_t{3});
  clock.set(now + hours(24 * 365));
  request.tasks = resolve_tasks(config, {"backup"});
  REQUIRE(run_tasks(*store, config, request, clock, log.logger()).ok());
  CHECK(fs::exists(made));
  CHECK(fs::exists(at_boundary));
  CHECK(fs::exists(backups + "/app-" + format_utc_stamp(now + hours(24 * 365)) + ".db"));
}
