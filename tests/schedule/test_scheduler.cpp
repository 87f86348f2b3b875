// Job plans: next times per job, last runs read from a real housekeep_runs table, health as
// `scheduler-info --check` judges it; and the crontab and systemd exports of the same jobs.
#include "housekeep/config.hpp"
#include "housekeep/export.hpp"
#include "housekeep/history.hpp"
#include "housekeep/scheduler.hpp"

#include "support/temp_db.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

using namespace housekeep;
using namespace std::chrono;

namespace {

Config config_with(std::vector<JobConfig> jobs)
{
  Config config;
  config.jobs = std::move(jobs);
  return config;
}

struct RecordedRuns {
  test::TempDir dir;
  std::unique_ptr<Store> store;
  RecordedRuns()
  {
    test::Sql sql(dir.file("app.db"));
    create_classic_schema(sql);
    store = open_store(parse_database_url(dir.file("app.db")), OpenOptions{});
  }
  void add(const std::string& job_name, const std::string& task, const std::string& started, const std::string& status,
           std::int64_t pid = 100)
  {
    RunRecord r;
    r.job = job_name;
    r.task = task;
    r.started_at = parse_utc(started);
    r.finished_at = r.started_at + seconds(3);
    r.status = parse_run_status(status);
    r.error = status == "ok" ? "" : "database is locked";
    r.host = "test";
    r.pid = pid;
    store->history().record_run(r);
  }
};

const JobPlan& find(const std::vector<JobPlan>& plans, const std::string& name)
{
  for (const auto& p : plans) {
    if (p.job.name == name) {
      return p;
    }
  }
  FAIL("no plan for " << name);
  return plans.front();
}

} // namespace

TEST_CASE("plan: next fire times per job in its own zone", "[scheduler]")
{
  Config config =
    config_with({test::job("nightly", "all", "0 2 * * *", "Europe/Berlin"), test::job("stats", "stats", "@every 6h"),
                 test::job("weekly", "conversations", "0 3 * * sun")});
  const auto plans = plan_jobs(config, parse_utc("2026-06-15T12:00:00Z"), 3, nullptr);
  REQUIRE(plans.size() == 3);
  const auto& nightly = find(plans, "nightly");
  REQUIRE(nightly.next.size() == 3);
  CHECK(format_in_zone(nightly.next[0], nightly.zone) == "2026-06-16T02:00:00+02:00");
  CHECK(format_in_zone(nightly.next[2], nightly.zone) == "2026-06-18T02:00:00+02:00");
  CHECK(nightly.zone_name == "Europe/Berlin");
  CHECK(nightly.health == JobHealth::never_run);

  const auto& stats = find(plans, "stats");
  CHECK(stats.zone_name == "UTC");
  CHECK(stats.next[0] == parse_utc("2026-06-15T18:00:00Z"));
  CHECK(stats.next[1] == parse_utc("2026-06-16T00:00:00Z"));

  // 2026-06-15 is a Monday.
  CHECK(find(plans, "weekly").next[0] == parse_utc("2026-06-21T03:00:00Z"));
}

TEST_CASE("plan: @every counts from the last run, skipping idle periods in one step", "[scheduler]")
{
  RecordedRuns h;
  h.add("stats", "stats", "2026-06-15T10:30:00Z", "ok");
  h.add("fast", "stats", "2025-06-15T12:00:00.500Z", "ok");
  Config config = config_with({test::job("stats", "stats", "@every 6h"), test::job("fast", "stats", "@every 1s")});
  const auto plans = plan_jobs(config, parse_utc("2026-06-15T12:00:00Z"), 2, h.store.get());
  CHECK(find(plans, "stats").next[0] == parse_utc("2026-06-15T16:30:00Z"));
  const auto& fast = find(plans, "fast");
  REQUIRE(fast.next.size() == 2);
  CHECK(fast.next[0] == parse_utc("2026-06-15T12:00:00.500Z"));
  CHECK(fast.next[1] == parse_utc("2026-06-15T12:00:01.500Z"));
}

TEST_CASE("plan: health from the recorded runs", "[scheduler]")
{
  RecordedRuns h;
  const TimePoint now = parse_utc("2026-06-15T12:00:00Z");
  // Ran last night at 02:00 and succeeded: healthy.
  h.add("fine", "stats", "2026-06-15T02:00:00Z", "ok");
  // Last run failed: failed, even though an older run succeeded.
  h.add("broken", "stats", "2026-06-14T02:00:00Z", "ok", 1);
  h.add("broken", "stats", "2026-06-15T02:00:00Z", "failed", 2);
  // Succeeded three days ago, nothing since: late (due 2026-06-13T02:00 + 1h grace).
  h.add("stale", "stats", "2026-06-12T02:00:00Z", "ok");
  // Succeeded yesterday; today's 02:00 firing is 10h ago, grace is 12h: still ok.
  h.add("graced", "stats", "2026-06-14T02:00:00Z", "ok");
  // A manual run of the same task does not count for the job.
  h.add("", "stats", "2026-06-15T11:00:00Z", "ok");

  Config config = config_with({test::job("fine", "stats", "0 2 * * *"), test::job("broken", "stats", "0 2 * * *"),
                               test::job("stale", "stats", "0 2 * * *"), test::job("graced", "stats", "0 2 * * *"),
                               test::job("new", "stats", "0 2 * * *"), test::job("off", "stats", "0 2 * * *")});
  config.jobs[3].misfire_grace = hours(12);
  config.jobs[5].enabled = false;
  const auto plans = plan_jobs(config, now, 1, h.store.get());

  CHECK(find(plans, "fine").health == JobHealth::ok);
  const auto& broken = find(plans, "broken");
  CHECK(broken.health == JobHealth::failed);
  CHECK_THAT(broken.health_reason, Catch::Contains("database is locked"));
  REQUIRE(broken.last_success);
  CHECK(broken.last_success->started_at == parse_utc("2026-06-14T02:00:00Z"));
  const auto& stale = find(plans, "stale");
  CHECK(stale.health == JobHealth::late);
  CHECK_THAT(stale.health_reason, Catch::Contains("2026-06-13T02:00:00+00:00"));
  CHECK(find(plans, "graced").health == JobHealth::ok);
  CHECK(find(plans, "new").health == JobHealth::never_run);
  CHECK(find(plans, "off").health == JobHealth::disabled);
}

TEST_CASE("plan: a job a daemon waited for but never ran turns late after a period and the grace", "[scheduler]")
{
  RecordedRuns h;
  Config config = config_with({test::job("nightly", "stats", "0 2 * * *", "UTC")});
  config.jobs[0].misfire_grace = hours(1);
  JobState state;
  state.job = "nightly";
  state.schedule = "0 2 * * *";
  state.timezone = "UTC";
  state.first_due = parse_utc("2026-06-15T02:00:00Z");
  state.next_fire = parse_utc("2026-06-17T02:00:00Z");
  state.last_status = "interrupted";
  state.updated_at = parse_utc("2026-06-16T02:00:00Z");
  h.store->history().save_job_state(state);

  // Second slot 06-16 02:00 plus the hour of grace: still within it at 02:59.
  const auto within = plan_jobs(config, parse_utc("2026-06-16T02:59:00Z"), 1, h.store.get()).at(0);
  CHECK(within.health == JobHealth::never_run);
  CHECK_FALSE(within.unhealthy());
  const auto past = plan_jobs(config, parse_utc("2026-06-16T03:01:00Z"), 1, h.store.get()).at(0);
  CHECK(past.health == JobHealth::late);
  CHECK(past.unhealthy());
  CHECK_THAT(past.health_reason, Catch::Contains("never run; first due at 2026-06-15T02:00:00+00:00"));
  // Without a daemon's record there is nothing to measure from: never-run, not unhealthy.
  RecordedRuns bare;
  CHECK(plan_jobs(config, parse_utc("2027-01-01T00:00:00Z"), 1, bare.store.get()).at(0).health == JobHealth::never_run);
}

TEST_CASE("plan: one invocation's tasks count together", "[scheduler]")
{
  RecordedRuns h;
  // `--task all` as one process: three ok rows and one failure make a failed invocation.
  h.add("nightly", "conversations", "2026-06-15T02:00:00Z", "ok", 7);
  h.add("nightly", "messages", "2026-06-15T02:00:01Z", "ok", 7);
  h.add("nightly", "users", "2026-06-15T02:00:02Z", "failed", 7);
  h.add("nightly", "stats", "2026-06-15T02:00:03Z", "ok", 7);
  const auto plans = plan_jobs(config_with({test::job("nightly", "all", "0 2 * * *")}),
                               parse_utc("2026-06-15T12:00:00Z"), 1, h.store.get());
  REQUIRE(plans[0].last_run);
  CHECK(plans[0].last_run->status == RunStatus::failed);
  CHECK(plans[0].last_run->started_at == parse_utc("2026-06-15T02:00:00Z"));
  CHECK(plans[0].health == JobHealth::failed);
}

TEST_CASE("export: crontab lines with their zone and the job's command", "[scheduler][export]")
{
  Config config =
    config_with({test::job("nightly", "all", "0 2 * * *", "Europe/Berlin"), test::job("stats", "stats", "@every 6h"),
                 test::job("odd", "stats", "@every 7m"), test::job("off", "users", "30 4 * * 1-5")});
  config.jobs[3].enabled = false;
  const auto plans = plan_jobs(config, test::test_now(), 1, nullptr);
  const std::string out =
    export_crontab(plans, ExportTarget{"/usr/bin/housekeep", "/etc/housekeep/my conf.toml", "/var/lib/app.db"});
  CHECK_THAT(out, Catch::Contains("CRON_TZ=Europe/Berlin\n0 2 * * * /usr/bin/housekeep --config "
                                  "'/etc/housekeep/my conf.toml' --db /var/lib/app.db run --job nightly --quiet\n"));
  CHECK_THAT(out, Catch::Contains("CRON_TZ=UTC\n0 */6 * * * /usr/bin/housekeep"));
  CHECK_THAT(out, Catch::Contains("'@every 7m' has no crontab equivalent"));
  CHECK_THAT(out, Catch::Contains("# disabled (enabled = false): 30 4 * * 1-5 "));
  CHECK_THAT(out, !Catch::Contains("run --job odd"));
}

TEST_CASE("export: a secret database URL is left to the environment", "[scheduler][export]")
{
  const auto plans = plan_jobs(config_with({test::job("stats", "stats", "@hourly")}), test::test_now(), 1, nullptr);
  const std::string cron = export_crontab(plans, ExportTarget{"/usr/bin/housekeep", "", ""});
  CHECK_THAT(cron, Catch::Contains("HOUSEKEEP_DATABASE_URL"));
  CHECK_THAT(cron, !Catch::Contains("--db"));
  const std::string units = export_systemd(plans, ExportTarget{"/usr/bin/housekeep", "", ""});
  CHECK_THAT(units, Catch::Contains("EnvironmentFile="));
  CHECK_THAT(units, Catch::Contains("ExecStart=/usr/bin/housekeep run --job stats\n"));
}

TEST_CASE("export: systemd timers carry OnCalendar in the job's zone", "[scheduler][export]")
{
  const auto plans =
    plan_jobs(config_with({test::job("weekly", "conversations", "0 3 * * sun", "America/New_York"),
                           test::job("both", "stats", "0 6 1 * mon"), test::job("stats", "stats", "@every 6h")}),
              test::test_now(), 1, nullptr);
  const std::string out = export_systemd(plans, ExportTarget{"/usr/bin/housekeep", "", "/data/app.db"});
  CHECK_THAT(out, Catch::Contains("# housekeep-weekly.service\n[Unit]"));
  CHECK_THAT(out, Catch::Contains("# housekeep-weekly.timer\n[Unit]"));
  CHECK_THAT(out, Catch::Contains("OnCalendar=Sun *-*-* 03:00:00 America/New_York\n"));
  // Day-of-month OR day-of-week: two OnCalendar lines, which a timer ORs.
  CHECK_THAT(out, Catch::Contains("OnCalendar=Mon *-*-* 06:00:00 UTC\nOnCalendar=*-*-01 06:00:00 UTC\n"));
  CHECK_THAT(out, Catch::Contains("OnUnitActiveSec=6h\n"));
  CHECK_THAT(out, Catch::Contains("Persistent=true"));
  CHECK_THAT(out, Catch::Contains("ExecStart=/usr/bin/housekeep --db /data/app.db run --job weekly\n"));
}

TEST_CASE("export: shell quoting", "[scheduler][export]")
{
  CHECK(shell_quote("/usr/bin/housekeep") == "/usr/bin/housekeep");
  CHECK(shell_quote("a b") == "'a b'");
  CHECK(shell_quote("it's") == "'it'\\''s'");
  CHECK(shell_quote("") == "''");
  CHECK(shell_quote("$HOME") == "'$HOME'");
}

TEST_CASE("trusted_next: a recorded slot more than a period past the job's own is not trusted", "[scheduler]")
{
  const Config config =
    config_with({test::job("nightly", "stats", "0 2 * * *", "UTC"), test::job("often", "stats", "@every 6h", "UTC")});
  const ResolvedJob nightly = resolve_job(config.jobs[0], config);
  const ResolvedJob often = resolve_job(config.jobs[1], config);
  const TimePoint now = parse_utc("2026-06-15T12:00:00Z");
  CHECK(natural_next(nightly, now) == parse_utc("2026-06-16T02:00:00Z"));
  CHECK(natural_next(often, now) == parse_utc("2026-06-15T18:00:00Z"));
  CHECK(trusted_next(nightly, std::nullopt, now) == parse_utc("2026-06-16T02:00:00Z"));
  // A slot missed while down (in the past) is kept: catch-up decides about it.
  CHECK(trusted_next(nightly, parse_utc("2026-06-14T02:00:00Z"), now) == parse_utc("2026-06-14T02:00:00Z"));
  // One period past the job's own next slot is still trusted (a clock set back a little).
  CHECK(trusted_next(nightly, parse_utc("2026-06-17T02:00:00Z"), now) == parse_utc("2026-06-17T02:00:00Z"));
  // Beyond that it was set while the clock was ahead.
  CHECK(trusted_next(nightly, parse_utc("2027-06-15T02:00:00Z"), now) == parse_utc("2026-06-16T02:00:00Z"));
  CHECK(trusted_next(often, parse_utc("2026-06-16T00:00:00Z"), now) == parse_utc("2026-06-16T00:00:00Z"));
  CHECK(trusted_next(often, parse_utc("2026-06-16T00:00:01Z"), now) == parse_utc("2026-06-15T18:00:00Z"));
}

TEST_CASE("jitter: a stable offset per job below its jitter, and next runs and exports carry it", "[scheduler][export]")
{
  Config config = config_with({test::job("nightly", "all", "0 2 * * *"), test::job("weekly", "users", "0 3 * * sun"),
                               test::job("plain", "stats", "0 4 * * *")});
  config.defaults.jitter = minutes(5);
  config.jobs[1].jitter = hours(2);
  config.jobs[2].jitter = Millis(0); // a job's own setting wins over the default
  const TimePoint now = parse_utc("2026-06-15T12:00:00Z");
  const auto plans = plan_jobs(config, now, 2, nullptr);
  const auto& nightly = find(plans, "nightly");
  const auto& weekly = find(plans, "weekly");
  CHECK(nightly.jitter == minutes(5));
  CHECK(nightly.offset >= Millis(0));
  CHECK(nightly.offset < minutes(5));
  CHECK(nightly.offset % seconds(1) == Millis(0));
  CHECK(weekly.offset < hours(2));
  CHECK(find(plans, "plain").offset == Millis(0));
  // The same in another process: it depends on the name and the jitter alone.
  CHECK(resolve_job(config.jobs[0], config).offset == nightly.offset);
  CHECK(plan_jobs(config, now + days(30), 1, nullptr).at(0).offset == nightly.offset);
  // Different names spread out (these two happen to differ; most pairs do).
  CHECK(resolve_job(test::job("a", "stats", "0 2 * * *"), config).offset !=
        resolve_job(test::job("b", "stats", "0 2 * * *"), config).offset);
  // Next runs are the slots plus the offset.
  CHECK(nightly.next.at(0) == parse_utc("2026-06-16T02:00:00Z") + nightly.offset);
  CHECK(nightly.next.at(1) == parse_utc("2026-06-17T02:00:00Z") + nightly.offset);

  const std::string cron = export_crontab(plans, ExportTarget{"/usr/bin/housekeep", "", "/data/app.db"});
  CHECK_THAT(cron, Catch::Contains(fmt::format("0 2 * * * sleep {} && /usr/bin/housekeep --db /data/app.db run --job "
                                               "nightly --quiet\n",
                                               duration_cast<seconds>(nightly.offset).count())));
  CHECK_THAT(cron, Catch::Contains("0 4 * * * /usr/bin/housekeep"));
  const std::string units = export_systemd(plans, ExportTarget{"/usr/bin/housekeep", "", "/data/app.db"});
  CHECK_THAT(units, Catch::Contains("AccuracySec=1s\nRandomizedDelaySec=5m\nFixedRandomDelay=true\n"
                                    "Unit=housekeep-nightly.service\n"));
  CHECK_THAT(units, Catch::Contains("RandomizedDelaySec=2h\nFixedRandomDelay=true\nUnit=housekeep-weekly.service\n"));
  CHECK_THAT(units, !Catch::Contains("RandomizedDelaySec=0"));
}
