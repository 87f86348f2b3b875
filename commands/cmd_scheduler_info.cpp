#include "commands.hpp"

#include "housekeep/error.hpp"
#include "housekeep/export.hpp"
#include "housekeep/scheduler.hpp"
#include "housekeep/status.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <optional>

namespace housekeep::cli {

namespace {

struct InfoArgs {
  std::string format = "table";
  std::size_t count = 1;
  bool check = false;
};

ExportTarget export_target(const Session& session)
{
  ExportTarget target;
  std::error_code ignored;
  target.binary = std::filesystem::read_symlink("/proc/self/exe", ignored).string();
  if (target.binary.empty()) {
    target.binary = "housekeep";
  }
  if (session.config.source != Config{}.source) {
    target.config_path = std::filesystem::absolute(session.config.source, ignored).string();
  }
  if (session.url.redacted() == session.url.text) {
    // cron and systemd start in another directory: a relative path must become absolute.
    target.database = absolute_database_url(session.url);
  }
  return target;
}

int info(const Globals& globals, const InfoArgs& args)
{
  const Session session = make_session(globals);
  const std::string format = globals.json ? "json" : args.format;
  const TimePoint now = SystemClock{}.now();
  if (format == "crontab" || format == "systemd") {
    const auto plans = plan_jobs(session.config, now, 1, nullptr);
    const ExportTarget target = export_target(session);
    print_stdout(format == "crontab" ? export_crontab(plans, target) : export_systemd(plans, target));
    return 0;
  }

  return print_status(session, globals, format == "json", args.count, args.check);
}

} // namespace

int print_status(const Session& session, const Globals& globals, bool json, std::size_t count, bool check)
{
  const auto store = session.open(AccessMode::read_only);
  const ScheduleStatus status = schedule_status(session.config, *store, SystemClock{}.now(), count);
  if (json) {
    print_stdout(schedule_status_json(status, check).dump(2) + "\n");
  } else if (!globals.quiet) {
    print_stdout(schedule_status_table(status));
  }
  if (!check || status.problems.empty()) {
    return 0;
  }
  for (const auto& problem : status.problems) {
    session.log.error("{}", problem);
  }
  session.log.hint(status.hint);
  return static_cast<int>(ExitCode::task_failed);
}

void register_status(CLI::App& app, const Globals& globals, Action& action)
{
  auto count = std::make_shared<std::size_t>(1);
  auto check = std::make_shared<bool>(false);
  CLI::App* sub = app.add_subcommand(
    "status", "Show what runs now on any daemon of the database (with its progress), the daemons, and the jobs");
  sub->footer("Examples:\n"
              "  housekeep status\n"
              "  housekeep status --json | jq '.running'\n"
              "The same document as 'scheduler-info --format json' and the daemon's /api/v1/status.");
  sub->add_option("-n,--count", *count, "Upcoming fire times per job (default 1)")
    ->type_name("N")
    ->check(CLI::Range(std::size_t{1}, std::size_t{1000}));
  sub->add_flag("--check", *check, "Exit 1 with one line per problem, as scheduler-info --check");
  sub->callback([&action, &globals, count, check] {
    action = [&globals, count, check] {
      return print_status(make_session(globals), globals, globals.json, *count, *check);
    };
  });
}

void register_scheduler_info(CLI::App& app, const Globals& globals, Action& action)
{
  auto args = std::make_shared<InfoArgs>();
  CLI::App* sub =
    app.add_subcommand("scheduler-info", "List the configured jobs: schedule, next runs, last run and health; or "
                                         "export them as crontab lines or systemd units");
  sub->footer("Examples:\n"
              "  housekeep scheduler-info --count 3\n"
              "  housekeep scheduler-info --check        # exit 1 if a job failed, missed or is late\n"
              "  housekeep scheduler-info --format crontab | crontab -");
  sub->add_option("-f,--format", args->format, "table, json, crontab or systemd")
    ->type_name("FORMAT")
    ->check(CLI::IsMember({"table", "json", "crontab", "systemd"}));
  sub->add_option("-n,--count", args->count, "Upcoming fire times per job (default 1)")
    ->type_name("N")
    ->check(CLI::Range(std::size_t{1}, std::size_t{1000}));
  sub->add_flag("--check", args->check,
                "Health check: exit 1 with one line per problem: a daemon that died or is stuck, a "
                "job whose last run failed, whose last slot was missed, or with no success within its "
                "period plus misfire_grace");
  sub->callback([&action, &globals, args] { action = [&globals, args] { return info(globals, *args); }; });
}

} // namespace housekeep::cli
