#include "housekeep/export.hpp"

#include "housekeep/duration.hpp"

#include <date/tz.h>
#include <fmt/format.h>

namespace housekeep {

namespace {

std::string command_line(const JobPlan& plan, const ExportTarget& target, bool quiet)
{
  std::string line = shell_quote(target.binary);
  if (!target.config_path.empty()) {
    line += " --config " + shell_quote(target.config_path);
  }
  if (!target.database.empty()) {
    line += " --db " + shell_quote(target.database);
  }
  line += " run --job " + plan.job.name;
  if (quiet) {
    line += " --quiet";
  }
  return line;
}

// cron's intervals are anchored to the clock; only intervals that divide an hour or a day
// evenly have a crontab form.
std::optional<std::string> interval_as_cron(Millis every)
{
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(every).count();
  if (s % 60 != 0) {
    return std::nullopt;
  }
  const auto m = s / 60;
  if (m < 60 && 60 % m == 0) {
    return m == 1 ? std::string("* * * * *") : fmt::format("*/{} * * * *", m);
  }
  if (m % 60 == 0 && m / 60 < 24 && 24 % (m / 60) == 0) {
    return m == 60 ? std::string("0 * * * *") : fmt::format("0 */{} * * *", m / 60);
  }
  if (m == 24 * 60) {
    return std::string("0 0 * * *");
  }
  return std::nullopt;
}

// Every '%' of `text` preceded by `escape`.
std::string escape_percent(const std::string& text, char escape)
{
  std::string out;
  for (const char c : text) {
    if (c == '%') {
      out += escape;
    }
    out += c;
  }
  return out;
}

} // namespace

std::string shell_quote(const std::string& word)
{
  if (!word.empty() && word.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                              "0123456789_-./:=@%+,") == std::string::npos) {
    return word;
  }
  std::string out = "'";
  for (char c : word) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

std::string export_crontab(const std::vector<JobPlan>& plans, const ExportTarget& target)
{
  std::string out = "# housekeep jobs; install with: housekeep scheduler-info --format crontab | crontab -\n";
  if (target.database.empty()) {
    out += "# the database URL holds a secret: set HOUSEKEEP_DATABASE_URL in this crontab's environment\n";
  }
  out += "# a run that finds another one still busy exits 75 instead of running twice\n";
  out += "# CRON_TZ needs a cron that honours it (such as cronie); others use the system zone\n";
  std::string zone;
  for (const auto& plan : plans) {
    out += "\n";
    const CronExpr* cron = plan.schedule.cron();
    const std::string what =
      cron != nullptr ? cron->describe() : fmt::format("every {}", format_duration(plan.schedule.every()));
    out += fmt::format("# {}: task {}, {} ({})\n", plan.job.name, plan.job.task, what, plan.zone_name);
    std::optional<std::string> fields =
      cron != nullptr ? cron->crontab_fields() : interval_as_cron(plan.schedule.every());
    if (!fields) {
      out +=
        fmt::format("# '{}' has no crontab equivalent; use the daemon or the systemd timer\n", plan.schedule.text());
      continue;
    }
    if (cron == nullptr) {
      out += "# note: cron anchors the interval to the clock, not to the previous run\n";
    }
    // Every line states its zone: "local" is resolved now, so a CRON_TZ set for an earlier
    // job never leaks into a later one.
    const std::string tz(plan.zone->name());
    if (tz != zone) {
      out += fmt::format("CRON_TZ={}\n", tz);
      zone = tz;
    }
    // cron turns an unescaped '%' of the command into a newline.
    std::string command = escape_percent(command_line(plan, target, true), '\\');
    if (plan.offset > Millis(0)) {
      // cron has no delay of its own: the job's stable offset, as the daemon runs it.
      command =
        fmt::format("sleep {} && {}", std::chrono::duration_cast<std::chrono::seconds>(plan.offset).count(), command);
    }
    out += fmt::format("{}{} {}\n", plan.job.enabled ? "" : "# disabled (enabled = false): ", *fields, command);
  }
  return out;
}

std::string export_systemd(const std::vector<JobPlan>& plans, const ExportTarget& target)
{
  std::string out;
  for (const auto& plan : plans) {
    const std::string unit = "housekeep-" + plan.job.name;
    const CronExpr* cron = plan.schedule.cron();
    if (!out.empty()) {
      out += "\n";
    }
    if (!plan.job.enabled) {
      out += fmt::format("# {}: job {} is disabled (enabled = false): no units exported\n", unit, plan.job.name);
      continue;
    }
    out += fmt::format("# {}.service\n", unit);
    out += fmt::format("[Unit]\nDescription=housekeep job {} (task {})\nDocumentation=man:housekeep(1)\n\n",
                       plan.job.name, plan.job.task);
    out += "[Service]\nType=oneshot\n";
    if (target.database.empty()) {
      out += "# the database URL holds a secret: provide HOUSEKEEP_DATABASE_URL, e.g.\n"
             "# EnvironmentFile=/etc/housekeep/environment\n";
    }
    // systemd expands '%' specifiers in ExecStart=; '%%' is a literal '%'.
    out += fmt::format("ExecStart={}\n", escape_percent(command_line(plan, target, false), '%'));
    out += "\n";
    out += fmt::format("# {}.timer\n", unit);
    out +=
      fmt::format("[Unit]\nDescription=Timer for housekeep job {}\nDocumentation=man:housekeep(1)\n\n", plan.job.name);
    out += "[Timer]\n";
    if (cron != nullptr) {
      // The zone resolved now, as for CRON_TZ: systemd's own local zone need not be the one
      // 'local' means here ($TZ).
      for (const auto& spec : cron->on_calendar()) {
        out += fmt::format("OnCalendar={} {}\n", spec, plan.zone->name());
      }
      out += "Persistent=true\nAccuracySec=1s\n";
    } else {
      out += fmt::format("# '{}' has no exact OnCalendar= equivalent: the interval is counted from\n"
                         "# the timer's start and then from each run, as the daemon counts it\n",
                         plan.schedule.text());
      const std::string every = format_duration(plan.schedule.every());
      out += fmt::format("OnActiveSec={}\nOnUnitActiveSec={}\nAccuracySec=1s\n", every, every);
    }
    if (plan.jitter > Millis(0)) {
      // systemd picks its own stable delay below the jitter (a hash of the timer and the
      // machine), not the daemon's offset; both keep every run of the job at one delay.
      out += fmt::format("RandomizedDelaySec={}\nFixedRandomDelay=true\n", format_duration(plan.jitter));
    }
    out += fmt::format("Unit={}.service\n\n[Install]\nWantedBy=timers.target\n", unit);
  }
  return out;
}

} // namespace housekeep
