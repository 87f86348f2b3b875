#include "commands.hpp"

#include "housekeep/duration.hpp"
#include "housekeep/error.hpp"
#include "housekeep/schedule.hpp"

#include <date/tz.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace housekeep::cli {

namespace {

struct CronArgs {
  std::string expression;
  std::string tz = "UTC";
  std::string from;
  std::size_t count = 5;
};

Schedule parse_schedule(const std::string& text)
{
  try {
    return Schedule::parse(text);
  } catch (const CronError& e) {
    throw UsageError(fmt::format("invalid cron expression '{}': {}", text, e.what()), e.hint());
  }
}

// The first `count` fire times after `from`; each one strictly after the one before.
std::vector<TimePoint> upcoming(const Schedule& schedule, const date::time_zone* zone, TimePoint from,
                                std::size_t count)
{
  std::vector<TimePoint> out;
  TimePoint t = from;
  while (out.size() < count) {
    const auto next = next_fire(schedule, zone, t);
    if (!next) {
      throw UsageError(
        fmt::format("'{}' does not fire within 30 years of {}", schedule.text(), format_in_zone(from, zone)));
    }
    out.push_back(*next);
    t = *next;
  }
  return out;
}

struct Resolved {
  Schedule schedule;
  const date::time_zone* zone;
  TimePoint from;
};

Resolved resolve(const CronArgs& args)
{
  Schedule schedule = parse_schedule(args.expression);
  const date::time_zone* zone = find_zone(args.tz);
  const TimePoint from = args.from.empty() ? SystemClock{}.now() : parse_time_in_zone(args.from, zone);
  return {std::move(schedule), zone, from};
}

int next(const Globals& globals, const CronArgs& args)
{
  const Resolved r = resolve(args);
  const auto times = upcoming(r.schedule, r.zone, r.from, args.count);
  if (globals.json) {
    nlohmann::ordered_json doc{{"ok", true},
                               {"expression", r.schedule.text()},
                               {"timezone", args.tz},
                               {"next", nlohmann::ordered_json::array()}};
    for (const TimePoint t : times) {
      doc["next"].push_back(format_in_zone(t, r.zone));
    }
    print_stdout(doc.dump(2) + "\n");
    return 0;
  }
  std::string out;
  for (const TimePoint t : times) {
    out += format_in_zone(t, r.zone) + "\n";
  }
  print_stdout(out);
  return 0;
}

int explain(const Globals& globals, const CronArgs& args)
{
  const Resolved r = resolve(args);
  const CronExpr* cron = r.schedule.cron();
  const std::string description =
    cron != nullptr
      ? cron->describe()
      : fmt::format("Every {}, counted from the previous run (or from the start)", format_duration(r.schedule.every()));
  const auto times = upcoming(r.schedule, r.zone, r.from, args.count);
  std::vector<DstNote> notes;
  if (cron != nullptr) {
    notes = dst_preview(*cron, r.zone, args.tz, r.from, r.from + date::days{366});
  }
  if (globals.json) {
    nlohmann::ordered_json doc{
      {"ok", true},          {"expression", r.schedule.text()},         {"description", description},
      {"timezone", args.tz}, {"next", nlohmann::ordered_json::array()}, {"dst", nlohmann::ordered_json::array()}};
    for (const TimePoint t : times) {
      doc["next"].push_back(format_in_zone(t, r.zone));
    }
    for (const auto& note : notes) {
      doc["dst"].push_back(note.text);
    }
    print_stdout(doc.dump(2) + "\n");
    return 0;
  }
  std::string out = description + "\n\nnext " + std::to_string(times.size()) + " in " + args.tz + ":\n";
  for (const TimePoint t : times) {
    out += "  " + format_in_zone(t, r.zone) + "\n";
  }
  if (cron != nullptr) {
    if (notes.empty()) {
      out += "\nno daylight-saving change in " + args.tz + " affects it in the coming year\n";
    } else {
      out += "\ndaylight-saving changes in the coming year:\n";
      for (const auto& note : notes) {
        out += "  " + note.text + "\n";
      }
    }
  }
  print_stdout(out);
  return 0;
}

void add_common(CLI::App* sub, CronArgs& args)
{
  sub
    ->add_option("EXPR", args.expression, "Cron expression (5 or 6 fields), a macro such as @daily, or @every DURATION")
    ->required();
  sub->add_option("--tz", args.tz, "IANA time zone, or 'local' (default UTC)")->type_name("ZONE");
  sub
    ->add_option("--from", args.from,
                 "Start after this time: ISO-8601 with offset, or wall time in --tz (default: now)")
    ->type_name("TIME");
}

} // namespace

void register_cron(CLI::App& app, const Globals& globals, Action& action)
{
  CLI::App* sub = app.add_subcommand("cron", "Check a cron expression: next fire times, or in words");
  sub->require_subcommand(1);
  auto next_args = std::make_shared<CronArgs>();
  CLI::App* next_cmd =
    sub->add_subcommand("next", "Print the next fire times, one ISO-8601 time with its UTC offset per line");
  add_common(next_cmd, *next_args);
  next_cmd->add_option("-n,--count", next_args->count, "How many times (default 5)")
    ->type_name("N")
    ->check(CLI::Range(std::size_t{1}, std::size_t{100000}));
  next_cmd->footer("Example:\n  housekeep cron next '30 2 * * *' --tz America/New_York --from 2027-03-13");
  next_cmd->callback(
    [&action, &globals, next_args] { action = [&globals, next_args] { return next(globals, *next_args); }; });

  auto explain_args = std::make_shared<CronArgs>();
  CLI::App* explain_cmd =
    sub->add_subcommand("explain", "Say the expression in words, show the next times and the daylight-saving changes "
                                   "of the coming year that affect it");
  add_common(explain_cmd, *explain_args);
  explain_cmd->callback([&action, &globals, explain_args] {
    action = [&globals, explain_args] { return explain(globals, *explain_args); };
  });
}

} // namespace housekeep::cli
