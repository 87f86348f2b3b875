#include "housekeep/schedule.hpp"

#include "housekeep/duration.hpp"
#include "housekeep/error.hpp"

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace housekeep {

namespace {

using namespace std::chrono;

constexpr auto k_horizon = date::days{366 * 30};

date::local_seconds to_local(sys_seconds t, seconds offset)
{
  return date::local_seconds{(t + offset).time_since_epoch()};
}

std::string wall(date::local_seconds t, bool with_seconds = false)
{
  return date::format(with_seconds ? "%H:%M:%S" : "%H:%M", t);
}

std::optional<sys_seconds> next_cron(const CronExpr& cron, const date::time_zone* zone, sys_seconds after)
{
  const bool real_time = cron.every_hour();
  const sys_seconds limit = after + k_horizon;
  sys_seconds t = after;
  bool inclusive = false;
  while (t < limit) {
    const date::sys_info info = zone->get_info(t);
    const seconds offset = info.offset;
    date::local_seconds lower = to_local(t, offset) + seconds(inclusive ? 0 : 1);
    if (!real_time && info.begin > sys_seconds{} - k_horizon) {
      // Right after the clocks went back, local times already passed are repeats: a
      // fixed-time expression fired at their first occurrence.
      const date::sys_info previous = zone->get_info(info.begin - seconds(1));
      if (previous.offset > offset) {
        lower = std::max(lower, to_local(info.begin, previous.offset));
      }
    }
    const sys_seconds end = std::min(info.end, limit);
    if (auto match = cron.first_match(lower, to_local(end, offset))) {
      return sys_seconds{match->time_since_epoch()} - offset;
    }
    if (info.end >= limit) {
      break;
    }
    const date::sys_info next = zone->get_info(info.end);
    if (!real_time && next.offset > offset &&
        cron.first_match(to_local(info.end, offset), to_local(info.end, next.offset))) {
      // A local time in the gap does not exist: it fires once, as the gap ends.
      return info.end;
    }
    t = info.end;
    inclusive = true;
  }
  return std::nullopt;
}

bool parse_digits(std::string_view text, std::size_t pos, std::size_t count, int& out)
{
  if (pos + count > text.size()) {
    return false;
  }
  out = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (std::isdigit(static_cast<unsigned char>(text[i])) == 0) {
      return false;
    }
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

} // namespace

Schedule Schedule::parse(std::string_view text)
{
  Schedule schedule;
  std::string trimmed(text);
  trimmed.erase(0, trimmed.find_first_not_of(" \t"));
  trimmed.erase(trimmed.find_last_not_of(" \t") + 1);
  schedule.m_text = trimmed;
  std::string lowered = trimmed;
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lowered.starts_with("@every")) {
    std::string duration = trimmed.substr(6);
    duration.erase(0, duration.find_first_not_of(" \t"));
    if (duration.empty() || trimmed.size() < 7 || !std::isspace(static_cast<unsigned char>(trimmed[6]))) {
      throw CronError(fmt::format("'{}' needs a duration, as in '@every 6h'", trimmed));
    }
    try {
      schedule.m_every = parse_duration(duration);
    } catch (const UsageError& e) {
      throw CronError(fmt::format("@every: {}", e.what()), e.hint());
    }
    if (schedule.m_every < seconds(1)) {
      throw CronError(fmt::format("@every: '{}' is shorter than one second", duration));
    }
    return schedule;
  }
  schedule.m_cron = CronExpr::parse(trimmed);
  return schedule;
}

namespace {

// The zone "local" means, as the C library reads it: $TZ when set (":Europe/Berlin",
// "Europe/Berlin", a path under a zoneinfo directory, or empty for UTC), else the system's
// zone (/etc/localtime).
const date::time_zone* local_zone()
{
  const char* tz = std::getenv("TZ");
  if (tz == nullptr) {
    return date::current_zone();
  }
  std::string_view name = tz;
  if (name.starts_with(':')) {
    name.remove_prefix(1);
  }
  if (name.empty()) {
    return date::locate_zone("UTC");
  }
  if (const auto dir = name.find("zoneinfo/"); name.starts_with('/') && dir != std::string_view::npos) {
    name.remove_prefix(dir + std::string_view("zoneinfo/").size());
  }
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    throw UsageError(fmt::format("'local' follows TZ, and TZ='{}' names no zone of the time zone database", tz),
                     "set TZ to an IANA name such as Europe/Berlin (a POSIX rule such as 'CET-1CEST' cannot be "
                     "followed), or name the zone instead of 'local'");
  }
}

} // namespace

const date::time_zone* find_zone(std::string_view name)
{
  if (name == "local") {
    return local_zone();
  }
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    throw UsageError(fmt::format("unknown time zone '{}'", name),
                     "use an IANA name such as UTC, Europe/Berlin or America/New_York, or 'local'");
  }
}

std::optional<TimePoint> next_fire(const Schedule& schedule, const date::time_zone* zone, TimePoint after)
{
  if (schedule.cron() == nullptr) {
    return after + schedule.every();
  }
  const auto next = next_cron(*schedule.cron(), zone, floor<seconds>(after));
  if (!next) {
    return std::nullopt;
  }
  return TimePoint{*next};
}

std::vector<DstNote> dst_preview(const CronExpr& cron, const date::time_zone* zone, std::string_view zone_name,
                                 TimePoint from, TimePoint until)
{
  std::vector<DstNote> notes;
  sys_seconds t = floor<seconds>(from);
  while (t < until) {
    const date::sys_info info = zone->get_info(t);
    if (info.end >= until) {
      break;
    }
    const date::sys_info next = zone->get_info(info.end);
    t = info.end;
    if (next.offset == info.offset) {
      continue;
    }
    const bool gap = next.offset > info.offset;
    const date::local_seconds begin = to_local(info.end, gap ? info.offset : next.offset);
    const date::local_seconds end = to_local(info.end, gap ? next.offset : info.offset);
    std::vector<date::local_seconds> matches;
    for (auto m = cron.first_match(begin, end); m && matches.size() < 1000;
         m = cron.first_match(*m + seconds(1), end)) {
      matches.push_back(*m);
    }
    if (matches.empty()) {
      continue;
    }
    const bool with_seconds = std::any_of(matches.begin(), matches.end(), [](date::local_seconds m) {
      return m.time_since_epoch() % minutes(1) != seconds(0);
    });
    const std::string when = matches.size() == 1 ? wall(matches.front(), with_seconds)
                                                 : fmt::format("{} to {}", wall(matches.front(), with_seconds),
                                                               wall(matches.back(), with_seconds));
    const std::string day = date::format("%F", floor<date::days>(begin));
    std::string text;
    if (gap) {
      text = cron.every_hour()
               ? fmt::format("{}: {} does not exist in {}; the expression follows real time, so "
                             "{} skipped",
                             day, when, zone_name, matches.size() == 1 ? "that firing is" : "those firings are")
               : fmt::format("{}: {} does not exist in {}; fires once at {} {}", day, when, zone_name,
                             wall(to_local(info.end, next.offset)), next.abbrev);
    } else {
      text = cron.every_hour() ? fmt::format("{}: {} occurs twice in {}; the expression follows real time, so it "
                                             "fires in both ({}, then {})",
                                             day, when, zone_name, info.abbrev, next.abbrev)
                               : fmt::format("{}: {} occurs twice in {}; fires once, at the first ({} {})", day, when,
                                             zone_name, wall(matches.front(), with_seconds), info.abbrev);
    }
    notes.push_back({TimePoint{info.end}, std::move(text)});
  }
  return notes;
}

std::string format_in_zone(TimePoint t, const date::time_zone* zone)
{
  const auto seconds_t = floor<seconds>(t);
  const date::sys_info info = zone->get_info(seconds_t);
  const date::local_seconds local = to_local(seconds_t, info.offset);
  const auto offset = info.offset;
  const auto magnitude = abs(offset);
  return fmt::format("{}{}{:02}:{:02}", date::format("%FT%T", local), offset < seconds(0) ? '-' : '+',
                     magnitude.count() / 3600, (magnitude.count() % 3600) / 60);
}

TimePoint parse_time_in_zone(std::string_view text, const date::time_zone* zone)
{
  const auto bad = [&]() -> TimePoint {
    throw UsageError(fmt::format("invalid time '{}'", text),
                     "use ISO-8601, e.g. 2026-03-08T01:30:00-05:00, 2026-03-08T06:30:00Z or "
                     "2026-03-08 01:30 (wall time in --tz)");
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (text.size() < 10 || !parse_digits(text, 0, 4, year) || text[4] != '-' || !parse_digits(text, 5, 2, month) ||
      text[7] != '-' || !parse_digits(text, 8, 2, day)) {
    return bad();
  }
  std::size_t pos = 10;
  if (pos < text.size() && (text[pos] == 'T' || text[pos] == ' ')) {
    if (!parse_digits(text, pos + 1, 2, hour) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !parse_digits(text, pos + 4, 2, minute)) {
      return bad();
    }
    pos += 6;
    if (pos < text.size() && text[pos] == ':') {
      if (!parse_digits(text, pos + 1, 2, second)) {
        return bad();
      }
      pos += 3;
    }
  }
  const date::year_month_day ymd{date::year{year}, date::month{static_cast<unsigned>(month)},
                                 date::day{static_cast<unsigned>(day)}};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 59) {
    return bad();
  }
  const date::local_seconds local = date::local_days{ymd} + hours(hour) + minutes(minute) + seconds(second);
  const std::string_view suffix = text.substr(pos);
  if (suffix.empty()) {
    const date::local_info info = zone->get_info(local);
    switch (info.result) {
    case date::local_info::unique:
    case date::local_info::ambiguous: return TimePoint{sys_seconds{local.time_since_epoch()} - info.first.offset};
    case date::local_info::nonexistent: return TimePoint{info.first.end};
    }
  }
  if (suffix == "Z" || suffix == "z") {
    return TimePoint{sys_seconds{local.time_since_epoch()}};
  }
  int offset_hours = 0, offset_minutes = 0;
  const bool colon = suffix.size() == 6 && suffix[3] == ':';
  if ((suffix.size() != 5 && !colon) || (suffix[0] != '+' && suffix[0] != '-') ||
      !parse_digits(suffix, 1, 2, offset_hours) || !parse_digits(suffix, colon ? 4 : 3, 2, offset_minutes) ||
      offset_hours > 23 || offset_minutes > 59) {
    return bad(); // real offsets lie within -12:00 and +14:00; ISO-8601 allows up to 23:59
  }
  const seconds offset = hours(offset_hours) + minutes(offset_minutes);
  return TimePoint{sys_seconds{local.time_since_epoch()} - (suffix[0] == '-' ? -offset : offset)};
}

} // namespace housekeep
