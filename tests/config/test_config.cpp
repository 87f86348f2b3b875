#include "housekeep/config.hpp"
#include "housekeep/error.hpp"

#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace housekeep;
using namespace std::chrono;

namespace {

std::string config_error(const std::string& text)
{
  try {
    parse_config(text, "test.toml");
  } catch (const ConfigError& e) {
    return std::string(e.what()) + (e.hint().empty() ? "" : " | " + e.hint());
  }
  return "no error";
}

} // namespace

TEST_CASE("built-in defaults reproduce the classic schema and schedule", "[config]")
{
  const Config c = parse_config("", "empty.toml");
  CHECK(builtin_task(c, "conversations").table() == "conversations");
  CHECK(builtin_task(c, "conversations").duration("older_than") == hours(24 * 30));
  REQUIRE(builtin_task(c, "conversations").children().size() == 1);
  CHECK(builtin_task(c, "conversations").children()[0].table == "messages");
  CHECK(builtin_task(c, "conversations").children()[0].foreign_key == "conversation_id");
  CHECK(builtin_task(c, "messages").text("parent") == "conversations");
  CHECK(builtin_task(c, "users").text("active_column") == "is_active");
  CHECK(builtin_task(c, "users").duration("older_than") == hours(24 * 7));
  CHECK(builtin_task(c, "stats").duration("recent") == hours(24));
  CHECK(c.defaults.batch_size == 50000);
  CHECK(c.database.busy_timeout == seconds(5));
  CHECK(c.database.statement_timeout == seconds(60));
  CHECK(c.database.history_schema.empty());
  CHECK(c.database.max_replication_lag == seconds(30));
  CHECK_FALSE(c.defaults.sleep.has_value());      // the engine's: 25ms on SQLite, none on PostgreSQL
  CHECK_FALSE(c.defaults.batch_time.has_value()); // the engine's: 50ms on SQLite, 100ms on PostgreSQL
  REQUIRE(c.jobs.size() == 3);
  CHECK(c.jobs[0].name == "daily_housekeeping");
  CHECK(c.jobs[1].schedule == "0 3 * * sun");
  CHECK(c.jobs[2].schedule == "@every 6h");
}

TEST_CASE("a file overrides only what it names", "[config]")
{
  const Config c = parse_config(R"toml(
[database]
url = "sqlite:///srv/app.db"
busy_timeout = "10s"
statement_timeout = "0s"
history_schema = "housekeep"
max_replication_lag = "0s"
lease = "15s"

[defaults]
batch_size = 250
sleep = "10ms"

[tasks.conversations]
table = "chat_conversation"
time_column = "created"
time_format = "iso8601"
older_than = "14d"
children = [ { table = "chat_message", foreign_key = "conversation_id" } ]

[jobs.nightly]
task = "all"
schedule = "30 1 * * *"
timezone = "Europe/Berlin"
)toml",
                                "app.toml");
  CHECK(c.database.url == "sqlite:///srv/app.db");
  CHECK(c.database.busy_timeout == seconds(10));
  CHECK(c.database.statement_timeout == seconds(0));
  CHECK(c.database.history_schema == "housekeep");
  CHECK(c.database.max_replication_lag == seconds(0));
  CHECK(c.database.lease == seconds(15));
  CHECK(c.defaults.batch_size == 250);
  CHECK(c.defaults.sleep == milliseconds(10));
  CHECK(builtin_task(c, "conversations").table() == "chat_conversation");
  CHECK(builtin_task(c, "conversations").time_format() == TimeFormat::iso8601);
  CHECK(builtin_task(c, "conversations").duration("older_than") == hours(24 * 14));
  CHECK(builtin_task(c, "conversations").children()[0].table == "chat_message");
  CHECK(builtin_task(c, "users").table() == "users"); // untouched
  REQUIRE(c.jobs.size() == 1);                        // a [jobs] table replaces the default jobs
  CHECK(c.jobs[0].timezone == "Europe/Berlin");
}

TEST_CASE("configuration errors name file / line / column and what to do", "[config]")
{
  CHECK(config_error("[tasks.conversations]\ntabel = \"x\"\n") ==
        "test.toml:2:1: unknown key 'tabel' in [tasks.conversations] | did you mean 'table'?");
  CHECK(config_error("[defaults]\nbatch_size = 0\n") ==
        "test.toml:2:14: defaults.batch_size: 0 is out of range 1-1000000");
  CHECK(config_error("[http]\nlisten = \"nowhere\"\n")
          .starts_with("test.toml:2:10: http.listen: listen address 'nowhere' has no port"));
  CHECK(config_error("[http]\nlisten = \"127.0.0.1:99999\"\n")
          .starts_with("test.toml:2:10: http.listen: listen address '127.0.0.1:99999': '99999' is not a port"));
  CHECK(config_error("[database]\nlease = \"1s\"\n")
          .starts_with("test.toml:2:9: database.lease: 1s is out of range | between 2s and 1h"));
  CHECK(config_error("[tasks.users]\nolder_than = \"7 days\"\n")
          .starts_with("test.toml:2:14: tasks.users.older_than: invalid duration '7 days'"));
  CHECK(config_error("[tasks.users]\ntable = \"users; DROP TABLE users\"\n")
          .starts_with("test.toml:2:9: tasks.users.table: 'users; DROP TABLE users' is not a safe SQL identifier"));
  CHECK(config_error("[tasks.messages]\nparent = \"a.b.c\"\n").find("not a safe SQL identifier") != std::string::npos);
  CHECK(config_error("[database\n").starts_with("test.toml:1:10: invalid TOML:"));
  CHECK(config_error("[jobs.x]\ntask = \"al\"\nschedule = \"* * * * *\"\n") ==
        "test.toml:2:8: jobs.x.task: unknown task 'al' | did you mean 'all'?");
  CHECK(config_error("[jobs.x]\ntask = \"all\"\n").find("needs a 'schedule'") != std::string::npos);
  CHECK(config_error("[jobs.x]\ntask = \"all\"\nschedule = \"@daily\"\ncatch_up = \"all\"\n")
          .find("'all' is not a policy") != std::string::npos);
  CHECK(config_error("[tasks.conversations]\ntime_format = \"epoch\"\n").find("unknown format 'epoch'") !=
        std::string::npos);
  CHECK(config_error("[tasks.conversations]\nolder_than = 30\n") ==
        "test.toml:2:14: tasks.conversations.older_than must be a string");
  CHECK(
    config_error("[tasks.conversations]\nchildren = [ { table = \"m\" } ]\n").find("needs 'table' and 'foreign_key'") !=
    std::string::npos);
  CHECK(config_error("[jobs.nightly]\ntask = \"all\"\nschedule = \"61 2 * * *\"\n") ==
        "test.toml:3:12: jobs.nightly.schedule: minute: 61 is out of range 0-59 | "
        "cron fields are: [second] minute hour day-of-month month day-of-week");
  CHECK(config_error("[jobs.nightly]\ntask = \"all\"\nschedule = \"@reboot\"\n")
          .starts_with("test.toml:3:12: jobs.nightly.schedule: '@reboot' is not supported"));
  CHECK(config_error("[jobs.nightly]\ntask = \"all\"\nschedule = \"@daily\"\ntimezone = \"Mars/Base\"\n")
          .starts_with("test.toml:4:12: jobs.nightly.timezone: unknown time zone 'Mars/Base'"));
  CHECK(config_error("[defaults]\ntimezone = \"Europe/Berlinn\"\n")
          .starts_with("test.toml:2:12: defaults.timezone: unknown time zone"));
  CHECK(config_error("[jobs.\"bad name\"]\ntask = \"all\"\nschedule = \"@daily\"\n")
          .find("job name 'bad name' may only use letters, digits") != std::string::npos);
  CHECK(config_error("[backup]\n").starts_with("test.toml:1:2: unknown key 'backup' in [top level]"));
}

TEST_CASE("a cascade cycle is refused", "[config]")
{
  const std::string error = config_error(R"toml(
[tasks.conversations]
children = [ { table = "messages", foreign_key = "conversation_id" } ]
[tasks.messages]
children = [ { table = "conversations", foreign_key = "last_message_id" } ]
)toml");
  CHECK(error.find("form a cycle: conversations -> messages -> conversations") != std::string::npos);
}

TEST_CASE("config_to_toml round-trips", "[config]")
{
  Config c = parse_config("[tasks.users]\nolder_than = \"3d\"\n", "x.toml");
  const Config again = parse_config(config_to_toml(c).substr(0), "again.toml");
  CHECK(builtin_task(again, "users").duration("older_than") == hours(72));
  CHECK(builtin_task(again, "conversations").children().size() == 1);
  CHECK(again.jobs.size() == 3);
  CHECK(config_to_toml(again).substr(config_to_toml(again).find('\n')) ==
        config_to_toml(c).substr(config_to_toml(c).find('\n')));
}

TEST_CASE("load_config_file distinguishes missing from unreadable", "[config]")
{
  test::TempDir dir;
  CHECK_THROWS_AS(load_config_file(dir.file("missing.toml")), NotFoundError);
  CHECK_THROWS_AS(load_config_file(dir.path()), ConfigError);
  std::ofstream(dir.file("ok.toml")) << "[stats]\n";
  CHECK_THROWS_AS(load_config_file(dir.file("ok.toml")), ConfigError);
  std::ofstream(dir.file("good.toml")) << "[tasks.stats]\nrecent = \"12h\"\n";
  CHECK(builtin_task(load_config_file(dir.file("good.toml")), "stats").duration("recent") == hours(12));
}
