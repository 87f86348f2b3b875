#include "commands.hpp"

#include "housekeep/duration.hpp"
#include "housekeep/error.hpp"
#include "housekeep/export.hpp"
#include "housekeep/output.hpp"
#include "housekeep/scheduler.hpp"

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
    const bool relative = (session.url.scheme == "sqlite" || session.url.scheme == "file") &&
                          !session.url.path.starts_with("/");
    // cron and systemd start in another directory: a relative path must become absolute.
    target.database = relative ? std::filesystem::absolute(session.url.path, ignored).string()
                               : session.url.text;
  }
  return target;
}

nlohmann::ordered_json run_json(const std::optional<JobRun>& run, const date::time_zone* zone)
{
  if (!run) {
    return nullptr;
  }
  nlohmann::ordered_json out{{"started_at", format_in_zone(run->started_at, zone)},
                             {"finished_at", format_in_zone(run->finished_at, zone)},
                             {"status", run->status}};
  out["error"] = run->error.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(run->error);
  return out;
}

// A heartbeat older than this (three missed refreshes) suggests a stuck daemon.
constexpr Millis k_stale_heartbeat = std::chrono::minutes(15);

// What is wrong with the database's daemon, if anything: one that died without a clean stop
// (its last heartbeat is not "stopped" and nobody holds its lock), or one whose heartbeat went
// stale while it holds the lock (stuck).
std::string daemon_problem(const DaemonStatus& status, TimePoint now)
{
  if (!status.beat) {
    return {};
  }
  if (!status.holder && status.beat->status != "stopped") {
    return fmt::format("the daemon (pid {} on {}) ended without a clean stop; its last heartbeat was at {} ({})",
                       status.beat->pid, status.beat->host, format_utc(status.beat->heartbeat_at),
                       status.beat->status);
  }
  if (status.holder && now - status.beat->heartbeat_at > k_stale_heartbeat) {
    return fmt::format("the daemon (pid {} on {}) has not refreshed its heartbeat since {}: it may be stuck",
                       status.holder->pid, status.holder->host, format_utc(status.beat->heartbeat_at));
  }
  return {};
}

nlohmann::ordered_json daemon_json(const DaemonStatus& status, TimePoint now)
{
  nlohmann::ordered_json out{{"running", status.holder.has_value()}};
  if (status.holder) {
    out["pid"] = status.holder->pid;
    out["host"] = status.holder->host;
    out["since"] = status.holder->since;
  }
  if (status.beat) {
    out["heartbeat_at"] = format_utc(status.beat->heartbeat_at);
    out["status"] = status.beat->status;
    out["stale"] = status.holder.has_value() && now - status.beat->heartbeat_at > k_stale_heartbeat;
  }
  if (const std::string problem = daemon_problem(status, now); !problem.empty()) {
    out["problem"] = problem;
  }
  return out;
}

std::string daemon_line(const DaemonStatus& status, TimePoint now)
{
  if (status.holder) {
    std::string line = fmt::format("daemon: running, pid {} on {} since {}", status.holder->pid, status.holder->host,
                                   status.holder->since);
    if (status.beat) {
      const Millis age = std::max(Millis(0), now - status.beat->heartbeat_at);
      line += fmt::format("; heartbeat {} ago: {}", humanize_duration(age), status.beat->status);
      if (age > k_stale_heartbeat) {
        line += " (stale: the daemon may be stuck)";
      }
    }
    return line + "\n";
  }
  if (status.beat) {
    return fmt::format("daemon: not running (last seen {}, pid {} on {}: {})\n", format_utc(status.beat->heartbeat_at),
                       status.beat->pid, status.beat->host, status.beat->status);
  }
  return "daemon: none has run for this database\n";
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

  const auto store = session.open(AccessMode::read_only);
  const auto plans = plan_jobs(session.config, now, args.count, store.get());
  const DaemonStatus daemon = daemon_status(*store);
  // The check's verdict: one problem per line, the daemon's first, then each unhealthy job's.
  std::vector<std::string> problems;
  std::string hint;
  if (args.check) {
    if (std::string trouble = daemon_problem(daemon, now); !trouble.empty()) {
      problems.push_back(std::move(trouble));
      hint = "start it again (systemctl restart housekeep, or your supervisor); 'housekeep history' shows what ran";
    }
    for (const auto& plan : plans) {
      if (plan.unhealthy()) {
        problems.push_back(fmt::format("job '{}' is {}: {}", plan.job.name, job_health_name(plan.health),
                                       plan.health_reason));
        if (hint.empty()) {
          hint = fmt::format("see 'housekeep history --job {}' for its runs and errors", plan.job.name);
        }
      }
    }
  }
  const auto report_problems = [&] {
    for (const auto& problem : problems) {
      session.log.error("{}", problem);
    }
    session.log.hint(hint);
    return static_cast<int>(ExitCode::task_failed);
  };

  if (format == "json") {
    nlohmann::ordered_json jobs = nlohmann::ordered_json::array();
    for (const auto& plan : plans) {
      nlohmann::ordered_json next = nlohmann::ordered_json::array();
      for (const TimePoint t : plan.next) {
        next.push_back(format_in_zone(t, plan.zone));
      }
      jobs.push_back({{"name", plan.job.name},
                      {"task", plan.job.task},
                      {"schedule", plan.schedule.text()},
                      {"timezone", plan.zone_name},
                      {"enabled", plan.job.enabled},
                      {"next", std::move(next)},
                      {"last_run", run_json(plan.last_run, plan.zone)},
                      {"last_success", run_json(plan.last_success, plan.zone)},
                      {"health", std::string(job_health_name(plan.health))},
                      {"health_reason", plan.health_reason},
                      {"first_due", plan.first_due ? nlohmann::ordered_json(format_in_zone(*plan.first_due, plan.zone))
                                                   : nlohmann::ordered_json(nullptr)},
                      {"missed", {{"count", plan.missed},
                                  {"latest", plan.last_missed ? nlohmann::ordered_json(format_in_zone(
                                                                  *plan.last_missed, plan.zone))
                                                              : nlohmann::ordered_json(nullptr)}}}});
    }
    nlohmann::ordered_json doc{{"ok", problems.empty()},
                               {"database", store->describe()},
                               {"daemon", daemon_json(daemon, now)},
                               {"jobs", std::move(jobs)}};
    if (!problems.empty()) {
      // One document on stdout: the status, with the check's problems in it.
      doc["problems"] = problems;
      doc["error"] = error_json(ExitCode::task_failed, problems.front(), hint)["error"];
    }
    print_stdout(doc.dump(2) + "\n");
  } else if (!globals.quiet) {
    std::vector<std::vector<std::string>> rows{
      {"JOB", "TASK", "SCHEDULE", "ZONE", "NEXT RUN", "LAST RUN", "MISSED", "HEALTH"}};
    for (const auto& plan : plans) {
      const std::string last = plan.last_run ? fmt::format("{} {}", format_in_zone(plan.last_run->started_at, plan.zone),
                                                           plan.last_run->status)
                                             : "-";
      const std::string missed = plan.last_missed ? fmt::format("{} (latest {})", plan.missed,
                                                                format_in_zone(*plan.last_missed, plan.zone))
                                                  : "-";
      for (std::size_t i = 0; i < std::max<std::size_t>(1, plan.next.size()); ++i) {
        const std::string next = i < plan.next.size() ? format_in_zone(plan.next[i], plan.zone) : "-";
        if (i == 0) {
          rows.push_back({plan.job.name, plan.job.task, plan.schedule.text(), plan.zone_name, next, last, missed,
                          std::string(job_health_name(plan.health))});
        } else {
          rows.push_back({"", "", "", "", next, "", "", ""});
        }
      }
    }
    print_stdout(daemon_line(daemon, now) + "\n" + format_columns(rows, {}));
  }
  return problems.empty() ? 0 : report_problems();
}

} // namespace

void register_scheduler_info(CLI::App& app, const Globals& globals, Action& action)
{
  auto args = std::make_shared<InfoArgs>();
  CLI::App* sub = app.add_subcommand(
    "scheduler-info", "List the configured jobs: schedule, next runs, last run and health; or "
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
  sub->callback([&action, &globals, args] {
    action = [&globals, args] { return info(globals, *args); };
  });
}

} // namespace housekeep::cli
