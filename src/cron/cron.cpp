#include "housekeep/cron.hpp"

#include <date/date.h>
#include <fmt/format.h>

#include <array>
#include <bit>
#include <cctype>
#include <charconv>
#include <vector>

namespace housekeep {

namespace {

using namespace std::chrono;

enum Field { second_f, minute_f, hour_f, dom_f, month_f, dow_f };

constexpr bool bit_set(std::uint64_t bits, unsigned index)
{
  return ((bits >> index) & std::uint64_t{1}) != 0;
}

struct FieldSpec {
  std::string_view name;
  unsigned low;
  unsigned high;
};

constexpr std::array<FieldSpec, 6> k_fields{{
  {"second", 0, 59},
  {"minute", 0, 59},
  {"hour", 0, 23},
  {"day-of-month", 1, 31},
  {"month", 1, 12},
  {"day-of-week", 0, 7},
}};

constexpr std::array<std::string_view, 12> k_month_names{"jan", "feb", "mar", "apr", "may", "jun",
                                                         "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> k_day_names{"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
constexpr std::array<std::string_view, 7> k_day_words{"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                      "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> k_month_words{"January",   "February", "March",    "April",
                                                         "May",       "June",     "July",     "August",
                                                         "September", "October",  "November", "December"};

struct Macro {
  std::string_view name;
  std::string_view expansion;
};

constexpr std::array<Macro, 7> k_macros{{
  {"@yearly", "0 0 1 1 *"},
  {"@annually", "0 0 1 1 *"},
  {"@monthly", "0 0 1 * *"},
  {"@weekly", "0 0 * * 0"},
  {"@daily", "0 0 * * *"},
  {"@midnight", "0 0 * * *"},
  {"@hourly", "0 * * * *"},
}};

[[noreturn]] void field_error(Field field, const std::string& message)
{
  throw CronError(fmt::format("{}: {}", k_fields[field].name, message),
                  "cron fields are: [second] minute hour day-of-month month day-of-week");
}

std::string lower(std::string_view text)
{
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

unsigned parse_value(Field field, std::string_view text)
{
  const FieldSpec& spec = k_fields[field];
  const std::string name = lower(text);
  if (field == month_f || field == dow_f) {
    const auto* names = field == month_f ? k_month_names.data() : k_day_names.data();
    const std::size_t count = field == month_f ? k_month_names.size() : k_day_names.size();
    for (std::size_t i = 0; i < count; ++i) {
      if (names[i] == name) {
        return static_cast<unsigned>(field == month_f ? i + 1 : i);
      }
    }
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
    field_error(field, fmt::format("'{}' is not a number{}", text,
                                   field == month_f ? " or a month name (jan-dec)"
                                   : field == dow_f ? " or a day name (sun-sat)"
                                                    : ""));
  }
  if (value < spec.low || value > spec.high) {
    field_error(field, fmt::format("{} is out of range {}-{}", value, spec.low, spec.high));
  }
  return value;
}

// Parses one field into a bit set (bit n = value n).
std::uint64_t parse_field(Field field, std::string_view text)
{
  const FieldSpec& spec = k_fields[field];
  for (char c : text) {
    const char upper = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (c == '?' || c == '#' || ((upper == 'L' || upper == 'W') && !(field == month_f || field == dow_f))) {
      field_error(field, fmt::format("'{}' is not supported (housekeep's cron syntax has no L, W, # "
                                     "or ?)",
                                     text));
    }
  }
  std::uint64_t bits = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) {
      comma = text.size();
    }
    const std::string_view item = text.substr(pos, comma - pos);
    if (item.empty()) {
      field_error(field, fmt::format("empty list item in '{}'", text));
    }
    std::string_view range = item;
    unsigned step = 1;
    const auto slash = item.find('/');
    if (slash != std::string_view::npos) {
      range = item.substr(0, slash);
      const std::string_view step_text = item.substr(slash + 1);
      auto [end, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
      if (step_text.empty() || ec != std::errc{} || end != step_text.data() + step_text.size()) {
        field_error(field, fmt::format("step '{}' is not a number", step_text));
      }
      if (step == 0 || step > spec.high) {
        field_error(field, fmt::format("step {} is out of range 1-{}", step, spec.high));
      }
    }
    unsigned first = spec.low;
    unsigned last = field == dow_f ? 6 : spec.high;
    if (range != "*") {
      const auto dash = range.find('-');
      if (dash == std::string_view::npos) {
        first = parse_value(field, range);
        // "5/10" means from 5 to the end in steps of 10; a lone value is just itself.
        last = slash == std::string_view::npos ? first : (field == dow_f ? 7 : spec.high);
      } else {
        first = parse_value(field, range.substr(0, dash));
        last = parse_value(field, range.substr(dash + 1));
        if (last < first) {
          field_error(field, fmt::format("range {} is backwards", range));
        }
      }
    }
    for (unsigned v = first; v <= last; v += step) {
      bits |= std::uint64_t{1} << (field == dow_f && v == 7 ? 0 : v);
    }
    pos = comma + 1;
  }
  return bits;
}

// The lowest set bit at or above `from`, or -1.
int next_bit(std::uint64_t bits, unsigned from)
{
  if (from >= 64) {
    return -1;
  }
  const std::uint64_t masked = bits & (~std::uint64_t{0} << from);
  return masked == 0 ? -1 : std::countr_zero(masked);
}

unsigned days_in_month(int year, unsigned month)
{
  return static_cast<unsigned>(
    (date::year_month_day_last{date::year{year}, date::month_day_last{date::month{month}}}).day());
}

std::vector<unsigned> bits_of(std::uint64_t bits)
{
  std::vector<unsigned> out;
  for (unsigned i = 0; i < 64; ++i) {
    if (bit_set(bits, i)) {
      out.push_back(i);
    }
  }
  return out;
}

std::string join_words(const std::vector<std::string>& words, std::string_view last = " and ")
{
  if (words.size() <= 1) {
    return words.empty() ? "" : words[0];
  }
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    out += i == 0 ? "" : i + 1 == words.size() ? last : ", ";
    out += words[i];
  }
  return out;
}

// A systemd calendar component: "*", or values and "a..b" runs joined by commas.
std::string calendar_list(std::uint64_t bits, unsigned low, unsigned high, bool pad)
{
  const std::uint64_t all = ((std::uint64_t{1} << (high + 1)) - 1) & ~((std::uint64_t{1} << low) - 1);
  if ((bits & all) == all) {
    return "*";
  }
  std::vector<std::string> parts;
  auto text = [pad](unsigned v) { return pad ? fmt::format("{:02}", v) : std::to_string(v); };
  for (unsigned v = low; v <= high; ++v) {
    if (!bit_set(bits, v)) {
      continue;
    }
    unsigned end = v;
    while (end + 1 <= high && bit_set(bits, end + 1)) {
      ++end;
    }
    if (end >= v + 2) {
      parts.push_back(text(v) + ".." + text(end));
    } else {
      for (unsigned w = v; w <= end; ++w) {
        parts.push_back(text(w));
      }
    }
    v = end;
  }
  return fmt::format("{}", fmt::join(parts, ","));
}

} // namespace

CronExpr CronExpr::parse(std::string_view text)
{
  std::string_view trimmed = text;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front())) != 0) {
    trimmed.remove_prefix(1);
  }
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back())) != 0) {
    trimmed.remove_suffix(1);
  }
  std::string expanded(trimmed);
  if (trimmed.starts_with("@")) {
    const std::string name = lower(trimmed);
    if (name == "@reboot") {
      throw CronError("'@reboot' is not supported: housekeep schedules time-based firings only",
                      "run 'housekeep run' from your init system at boot instead");
    }
    if (name.starts_with("@every")) {
      throw CronError(fmt::format("'{}' is an interval, not a calendar expression", trimmed));
    }
    bool found = false;
    for (const auto& macro : k_macros) {
      if (macro.name == name) {
        expanded = std::string(macro.expansion);
        found = true;
      }
    }
    if (!found) {
      throw CronError(fmt::format("unknown macro '{}'", trimmed),
                      "macros: @yearly @annually @monthly @weekly @daily @midnight @hourly "
                      "@every DURATION");
    }
  }
  std::vector<std::string_view> parts;
  std::string_view rest = expanded;
  while (!rest.empty()) {
    const auto start = rest.find_first_not_of(" \t");
    if (start == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(start);
    const auto end = rest.find_first_of(" \t");
    parts.push_back(rest.substr(0, end));
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  }
  if (parts.size() != 5 && parts.size() != 6) {
    throw CronError(fmt::format("expected 5 fields (minute hour day-of-month month day-of-week) or "
                                "6 with seconds first, got {} in '{}'",
                                parts.size(), trimmed),
                    "for example '0 2 * * *' is every day at 02:00");
  }
  CronExpr expr;
  expr.m_text = std::string(trimmed);
  expr.m_has_seconds = parts.size() == 6;
  const std::size_t offset = expr.m_has_seconds ? 0 : 1;
  expr.m_field_text[second_f] = "0";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    expr.m_field_text[i + offset] = std::string(parts[i]);
  }
  expr.m_seconds = parse_field(second_f, expr.m_field_text[second_f]);
  expr.m_minutes = parse_field(minute_f, expr.m_field_text[minute_f]);
  expr.m_hours = static_cast<std::uint32_t>(parse_field(hour_f, expr.m_field_text[hour_f]));
  expr.m_days = static_cast<std::uint32_t>(parse_field(dom_f, expr.m_field_text[dom_f]));
  expr.m_months = static_cast<std::uint16_t>(parse_field(month_f, expr.m_field_text[month_f]));
  expr.m_weekdays = static_cast<std::uint8_t>(parse_field(dow_f, expr.m_field_text[dow_f]));
  expr.m_days_restricted = !expr.m_field_text[dom_f].starts_with("*");
  expr.m_weekdays_restricted = !expr.m_field_text[dow_f].starts_with("*");

  // An expression that can never fire is a mistake worth reporting now, not at 02:00.
  if (!expr.m_weekdays_restricted) {
    bool possible = false;
    for (unsigned month = 1; month <= 12 && !possible; ++month) {
      if (bit_set(expr.m_months, month)) {
        const int first = next_bit(expr.m_days, 1);
        possible = first >= 1 && static_cast<unsigned>(first) <= days_in_month(2024, month);
      }
    }
    if (!possible) {
      field_error(dom_f, fmt::format("'{}' never occurs in month '{}', so the expression never fires",
                                     expr.m_field_text[dom_f], expr.m_field_text[month_f]));
    }
  }
  return expr;
}

bool CronExpr::day_matches(int year, unsigned month, unsigned day, unsigned weekday) const
{
  (void)year;
  (void)month;
  const bool dom = bit_set(m_days, day);
  const bool dow = bit_set(m_weekdays, weekday);
  // Vixie cron's rule: either field matches when both are restricted; when either starts
  // with '*' (a '*' alone sets every bit, '*/2' only some), both filter.
  return or_days() ? dom || dow : dom && dow;
}

bool CronExpr::matches(int year, unsigned month, unsigned day, unsigned weekday, unsigned hour, unsigned minute,
                       unsigned second) const
{
  return bit_set(m_months, month) && day_matches(year, month, day, weekday) && bit_set(m_hours, hour) &&
         bit_set(m_minutes, minute) && bit_set(m_seconds, second);
}

std::optional<date::local_seconds> CronExpr::first_match(date::local_seconds from, date::local_seconds until) const
{
  date::local_seconds t = from;
  while (t < until) {
    const auto day_start = floor<date::days>(t);
    const date::year_month_day ymd{day_start};
    const int year = static_cast<int>(ymd.year());
    const auto month = static_cast<unsigned>(ymd.month());
    const auto day = static_cast<unsigned>(ymd.day());
    const date::hh_mm_ss<seconds> tod{t - day_start};
    const auto hour = static_cast<unsigned>(tod.hours().count());
    const auto minute = static_cast<unsigned>(tod.minutes().count());
    const auto second = static_cast<unsigned>(tod.seconds().count());

    if (!bit_set(m_months, month)) {
      const int next = next_bit(m_months, month + 1);
      const date::year_month_day target =
        next < 0 ? date::year{year + 1} / date::month{static_cast<unsigned>(next_bit(m_months, 1))} / 1
                 : date::year{year} / date::month{static_cast<unsigned>(next)} / 1;
      t = date::local_seconds{date::local_days{target}};
      continue;
    }
    const unsigned weekday = date::weekday{day_start}.c_encoding();
    if (!day_matches(year, month, day, weekday)) {
      if (!or_days() && m_days != k_all_days) {
        // Every firing day is one of the listed days: jump straight to the next one of this
        // month, or to the next month.
        const int next = next_bit(m_days, day + 1);
        if (next > 0 && static_cast<unsigned>(next) <= days_in_month(year, month)) {
          t = date::local_seconds{
            date::local_days{date::year{year} / date::month{month} / date::day{static_cast<unsigned>(next)}}};
        } else {
          t = date::local_seconds{date::local_days{(date::year{year} / date::month{month} / 1) + date::months{1}}};
        }
      } else {
        t = date::local_seconds{day_start + date::days{1}};
      }
      continue;
    }
    if (!bit_set(m_hours, hour)) {
      const int next = next_bit(m_hours, hour + 1);
      t = next < 0 ? date::local_seconds{day_start + date::days{1}} : date::local_seconds{day_start} + hours(next);
      continue;
    }
    if (!bit_set(m_minutes, minute)) {
      const int next = next_bit(m_minutes, minute + 1);
      t = next < 0 ? date::local_seconds{day_start} + hours(hour + 1)
                   : date::local_seconds{day_start} + hours(hour) + minutes(next);
      continue;
    }
    if (!bit_set(m_seconds, second)) {
      const int next = next_bit(m_seconds, second + 1);
      t = next < 0 ? date::local_seconds{day_start} + hours(hour) + minutes(minute + 1)
                   : date::local_seconds{day_start} + hours(hour) + minutes(minute) + seconds(next);
      continue;
    }
    return t;
  }
  return std::nullopt;
}

std::optional<std::string> CronExpr::crontab_fields() const
{
  if (m_seconds != 1) {
    return std::nullopt;
  }
  return fmt::format("{} {} {} {} {}", m_field_text[minute_f], m_field_text[hour_f], m_field_text[dom_f],
                     m_field_text[month_f], m_field_text[dow_f]);
}

std::vector<std::string> CronExpr::on_calendar() const
{
  const std::string time = fmt::format("{}:{}:{}", calendar_list(m_hours, 0, 23, true),
                                       calendar_list(m_minutes, 0, 59, true), calendar_list(m_seconds, 0, 59, true));
  const std::string months = calendar_list(m_months, 1, 12, true);
  std::string weekdays;
  {
    // systemd counts Monday first; cron counts Sunday as 0.
    constexpr std::array<std::string_view, 7> names{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    std::vector<std::string> parts;
    const std::string list =
      calendar_list(((m_weekdays >> 1) & 0x3F) | (std::uint64_t{(m_weekdays & 1U)} << 6), 0, 6, false);
    std::string_view rest = list == "*" ? std::string_view("0..6") : std::string_view(list);
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const std::string_view item = rest.substr(0, comma);
      const auto dots = item.find("..");
      auto name = [&](std::string_view digit) { return std::string(names[static_cast<std::size_t>(digit[0] - '0')]); };
      parts.push_back(dots == std::string_view::npos ? name(item)
                                                     : name(item.substr(0, dots)) + ".." + name(item.substr(dots + 2)));
      rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
    }
    weekdays = fmt::format("{}", fmt::join(parts, ","));
  }
  const std::string days = calendar_list(m_days, 1, 31, true);
  if (or_days()) {
    // Several OnCalendar= lines fire on the union of their times.
    return {fmt::format("{} *-{}-* {}", weekdays, months, time), fmt::format("*-{}-{} {}", months, days, time)};
  }
  // One line: systemd requires the weekday and the date both, as cron does here.
  const bool all_weekdays = (m_weekdays & 0x7F) == 0x7F;
  return {fmt::format("{}*-{}-{} {}", all_weekdays ? "" : weekdays + " ", months, days, time)};
}

std::string CronExpr::describe() const
{
  const auto hours = bits_of(m_hours);
  const auto mins = bits_of(m_minutes);
  const auto secs = bits_of(m_seconds);
  const bool all_minutes = m_minutes == (std::uint64_t{1} << 60) - 1;
  const bool all_seconds = m_seconds == (std::uint64_t{1} << 60) - 1;
  const std::string& minute_text = m_field_text[minute_f];
  const std::string& hour_text = m_field_text[hour_f];

  std::string time;
  if (hours.size() <= 4 && mins.size() <= 2 && secs.size() == 1) {
    std::vector<std::string> times;
    for (unsigned h : hours) {
      for (unsigned m : mins) {
        times.push_back(secs[0] == 0 ? fmt::format("{:02}:{:02}", h, m)
                                     : fmt::format("{:02}:{:02}:{:02}", h, m, secs[0]));
      }
    }
    time = "At " + join_words(times);
  } else {
    if (all_minutes && every_hour()) {
      time = "Every minute";
    } else if (minute_text.starts_with("*/") && every_hour()) {
      time = fmt::format("Every {} minutes", minute_text.substr(2));
    } else if (mins.size() == 1) {
      time = fmt::format("At minute {}", mins[0]);
    } else if (all_minutes) {
      time = "Every minute";
    } else {
      time = fmt::format("At minutes {}", minute_text);
    }
    if (!every_hour()) {
      if (hour_text.starts_with("*/")) {
        time += fmt::format(" of every {} hours", hour_text.substr(2));
      } else {
        std::vector<std::string> words;
        for (unsigned h : hours) {
          words.push_back(fmt::format("{:02}", h));
        }
        time += fmt::format(" past hour {}", join_words(words));
      }
    } else if (mins.size() == 1) {
      time += " past every hour";
    }
    if (m_has_seconds && !(secs.size() == 1 && secs[0] == 0)) {
      time = all_seconds ? "Every second; " + time : fmt::format("At second {} of: {}", m_field_text[second_f], time);
    }
  }

  std::vector<std::string> days;
  const bool dom_filters = m_days != k_all_days;
  const bool dow_filters = (m_weekdays & 0x7F) != 0x7F;
  if (dom_filters) {
    const std::string& text = m_field_text[dom_f];
    const auto step = text.starts_with("*/") ? text.substr(2) : std::string();
    if (!step.empty()) {
      const unsigned n = static_cast<unsigned>(std::stoul(step));
      const char* suffix = n % 100 >= 11 && n % 100 <= 13 ? "th"
                           : n % 10 == 1                  ? "st"
                           : n % 10 == 2                  ? "nd"
                           : n % 10 == 3                  ? "rd"
                                                          : "th";
      days.push_back(fmt::format("every {}{} day of the month (from the 1st)", n, suffix));
    } else {
      std::vector<std::string> words;
      for (unsigned d : bits_of(m_days)) {
        words.push_back(std::to_string(d));
      }
      days.push_back("on day " + join_words(words) + " of the month");
    }
  }
  if (dow_filters) {
    std::vector<std::string> words;
    for (unsigned d : bits_of(m_weekdays)) {
      words.push_back(std::string(k_day_words[d]));
    }
    days.push_back(dom_filters ? join_words(words, " or ") : "only on " + join_words(words));
  }
  std::string out = time;
  if (days.size() == 2) {
    // Both restricted: either day field; one starts with '*': both (Vixie cron's rule).
    out += or_days() ? ", " + days[0] + " or on " + days[1] : ", " + days[0] + ", if it is a " + days[1];
  } else if (days.size() == 1) {
    out += ", " + days[0];
  }
  if (m_months != 0x1FFE) {
    std::vector<std::string> words;
    for (unsigned m : bits_of(m_months)) {
      words.push_back(std::string(k_month_words[m - 1]));
    }
    out += ", in " + join_words(words);
  }
  return out;
}

} // namespace housekeep
