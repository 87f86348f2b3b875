#include "housekeep/time_column.hpp"

#include "housekeep/duration.hpp"
#include "housekeep/error.hpp"

#include "housekeep/schedule.hpp"

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <vector>

namespace housekeep {

namespace {

using namespace std::chrono;

// Unix values at or above this are milliseconds: as seconds they would be past the year 5000,
// as milliseconds they are after March 1973.
constexpr double k_millis_threshold = 1e11;
constexpr std::size_t k_sample_size = 64;

struct ParsedIso {
  TimeEncoding layout;
  TimePoint instant;
};

bool digits(std::string_view text, std::size_t pos, std::size_t count, int& out)
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

std::optional<ParsedIso> parse_iso(std::string_view text)
{
  ParsedIso parsed;
  TimeEncoding& layout = parsed.layout;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(text, 0, 4, year) || text.size() < 10 || text[4] != '-' || !digits(text, 5, 2, month) || text[7] != '-' ||
      !digits(text, 8, 2, day)) {
    return std::nullopt;
  }
  const date::year_month_day ymd{date::year{year}, date::month{static_cast<unsigned>(month)},
                                 date::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) {
    return std::nullopt;
  }
  std::size_t pos = 10;
  if (pos == text.size()) {
    layout.date_only = true;
    parsed.instant = TimePoint{date::sys_days{ymd}};
    return parsed;
  }
  layout.separator = text[pos];
  if ((layout.separator != 'T' && layout.separator != ' ') || !digits(text, pos + 1, 2, hour) ||
      pos + 3 >= text.size() || text[pos + 3] != ':' || !digits(text, pos + 4, 2, minute)) {
    return std::nullopt;
  }
  pos += 6;
  layout.has_seconds = false;
  if (pos < text.size() && text[pos] == ':') {
    if (!digits(text, pos + 1, 2, second)) {
      return std::nullopt;
    }
    layout.has_seconds = true;
    pos += 3;
  }
  milliseconds fraction{0};
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int scale = 100;
    const std::size_t start = pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) != 0) {
      fraction += milliseconds((text[pos] - '0') * scale);
      scale /= 10;
      ++pos;
    }
    if (pos == start) {
      return std::nullopt;
    }
  }
  layout.suffix = std::string(text.substr(pos));
  if (!layout.suffix.empty() && layout.suffix != "Z" && layout.suffix != "+00:00" && layout.suffix != "+0000") {
    return std::nullopt;
  }
  if (hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  parsed.instant = TimePoint{date::sys_days{ymd}} + hours(hour) + minutes(minute) + seconds(second) + fraction;
  return parsed;
}

bool same_layout(const TimeEncoding& a, const TimeEncoding& b)
{
  return a.date_only == b.date_only &&
         (a.date_only || (a.separator == b.separator && a.has_seconds == b.has_seconds && a.suffix == b.suffix));
}

std::optional<double> as_number(const Value& value)
{
  if (const auto* i = std::get_if<std::int64_t>(&value)) {
    return static_cast<double>(*i);
  }
  if (const auto* d = std::get_if<double>(&value)) {
    return *d;
  }
  return std::nullopt;
}

// The wall-clock time of `t` in `zone`, as a TimePoint (what the column would hold), bounding
// exactly the values whose later reading (see from_wall) lies before `t`. Where `t` falls in
// the first pass of an hour that repeats (clocks go back), that is the start of the repeated
// hour: each of its values may also mean the second pass, after `t`.
TimePoint wall_bound(TimePoint t, const date::time_zone& zone)
{
  const date::sys_info now = zone.get_info(t);
  const TimePoint wall = t + now.offset;
  const date::local_info reading = zone.get_info(date::local_time<milliseconds>{wall.time_since_epoch()});
  if (reading.result == date::local_info::ambiguous && now.offset == reading.first.offset) {
    return TimePoint{reading.second.begin + reading.second.offset};
  }
  return wall;
}

// The instant a wall-clock time of `zone` names, as PostgreSQL reads one: where the time
// happens twice, the later instant (so a value is never taken for older than it may be);
// where clocks skipped it, by the offset before the jump.
TimePoint from_wall(TimePoint wall, const date::time_zone* zone)
{
  if (zone == nullptr) {
    return wall;
  }
  const date::local_info reading = zone->get_info(date::local_time<milliseconds>{wall.time_since_epoch()});
  return wall - (reading.result == date::local_info::ambiguous ? reading.second.offset : reading.first.offset);
}

} // namespace

TimeSettings time_settings(const TaskConfig& task)
{
  const std::string& zone = task.text("time_zone");
  return {task.time_format(), zone.empty() ? nullptr : find_zone(zone)};
}

Value TimeEncoding::encode(TimePoint instant) const
{
  const TimePoint t = zone != nullptr ? wall_bound(instant, *zone) : instant;
  if (native) {
    return Value{t};
  }
  const auto whole = floor<seconds>(t);
  switch (format) {
  case TimeFormat::unix_seconds: return Value{static_cast<std::int64_t>(whole.time_since_epoch().count())};
  case TimeFormat::unix_millis: return Value{static_cast<std::int64_t>(t.time_since_epoch().count())};
  case TimeFormat::auto_detect:
  case TimeFormat::iso8601: break;
  }
  if (date_only) {
    return Value{date::format("%F", floor<date::days>(t))};
  }
  std::string text = date::format(has_seconds ? "%F %T" : "%F %H:%M", whole);
  text[10] = separator;
  if (!suffix.empty()) {
    // ".000" makes a suffixed value with a fraction ("...:00.5Z") compare after the cutoff.
    text += has_seconds ? ".000" + suffix : suffix;
  }
  return Value{text};
}

std::string TimeEncoding::describe() const
{
  if (zone != nullptr) {
    TimeEncoding utc = *this;
    utc.zone = nullptr;
    return fmt::format("{}, wall-clock times in {}", utc.describe(), zone->name());
  }
  if (native) {
    return "a time type";
  }
  switch (format) {
  case TimeFormat::unix_seconds: return "unix seconds";
  case TimeFormat::unix_millis: return "unix milliseconds";
  case TimeFormat::auto_detect:
  case TimeFormat::iso8601: break;
  }
  if (date_only) {
    return "iso8601 date (2026-01-31)";
  }
  return fmt::format("iso8601 (2026-01-31{}10:00{}{})", separator, has_seconds ? ":00" : "", suffix);
}

TimePoint decode_time(const Value& value, const TimeEncoding& encoding)
{
  if (encoding.native) {
    if (const auto* t = std::get_if<Timestamp>(&value)) {
      return from_wall(std::chrono::floor<std::chrono::milliseconds>(*t), encoding.zone);
    }
    throw DataError(fmt::format("{} is not a time", describe_value(value)));
  }
  if (encoding.format == TimeFormat::unix_seconds || encoding.format == TimeFormat::unix_millis) {
    const auto number = as_number(value);
    if (!number || !std::isfinite(*number)) {
      throw DataError(fmt::format("{} is not a number", describe_value(value)));
    }
    const double millis = encoding.format == TimeFormat::unix_seconds ? *number * 1000.0 : *number;
    if (std::fabs(millis) > 1e16) {
      throw DataError(fmt::format("{} is out of range", describe_value(value)));
    }
    return TimePoint{milliseconds(static_cast<std::int64_t>(millis))};
  }
  const auto* text = std::get_if<std::string>(&value);
  const auto parsed = text != nullptr ? parse_iso(*text) : std::nullopt;
  if (!parsed) {
    throw DataError(fmt::format("{} is not an ISO-8601 UTC timestamp", describe_value(value)));
  }
  return from_wall(parsed->instant, encoding.zone);
}

std::optional<TimeEncoding> detect_time_encoding(Store& store, std::string_view table, std::string_view column,
                                                 TimeSettings settings, TimePoint now, std::string_view what,
                                                 Millis future)
{
  const TimeFormat configured = settings.format;
  // Where a column may hold numbers and text together, numbers sort before text, so the two
  // ends of the column show every kind of value it holds; the same ends are where unit
  // mix-ups and garbage sort. (Where a column has one type, they show its range.)
  std::vector<Value> values = store.sample(table, column, k_sample_size, false);
  if (values.empty()) {
    return std::nullopt;
  }
  const std::vector<Value> highest = store.sample(table, column, k_sample_size, true);
  values.insert(values.end(), highest.begin(), highest.end());

  const std::string subject = fmt::format("{}: column '{}.{}'", what, table, column);
  const std::string hint = fmt::format("set time_format in [{}] (auto, iso8601, unix, unix_ms) or "
                                       "fix the data; nothing was deleted",
                                       what);
  TimeEncoding encoding;
  const bool native = std::holds_alternative<Timestamp>(values.front());
  if (native && (configured == TimeFormat::unix_seconds || configured == TimeFormat::unix_millis)) {
    throw DataError(fmt::format("{} has a time type ({}) but time_format is {}", subject,
                                describe_value(values.front()), time_format_name(configured)),
                    hint);
  }
  const bool numeric = as_number(values.front()).has_value();
  for (const auto& v : values) {
    if (native) {
      continue; // one type: the column's own
    }
    if (as_number(v).has_value() != numeric) {
      throw DataError(fmt::format("{} mixes numbers and text ({} and {})", subject, describe_value(values.front()),
                                  describe_value(v)),
                      hint);
    }
  }

  if (native) {
    encoding.native = true;
  } else if (numeric) {
    if (configured == TimeFormat::iso8601) {
      throw DataError(
        fmt::format("{} holds numbers ({}) but time_format is iso8601", subject, describe_value(values.front())), hint);
    }
    const double low = *as_number(values.front());
    const double high = *as_number(highest.front());
    TimeFormat format = configured;
    if (format == TimeFormat::auto_detect) {
      if ((low >= k_millis_threshold) != (high >= k_millis_threshold)) {
        throw DataError(fmt::format("{} mixes unix seconds and milliseconds ({} and {})", subject,
                                    describe_value(values.front()), describe_value(highest.front())),
                        hint);
      }
      format = low >= k_millis_threshold ? TimeFormat::unix_millis : TimeFormat::unix_seconds;
    }
    if (format == TimeFormat::unix_seconds && high >= k_millis_threshold) {
      throw DataError(fmt::format("{} holds {} which only makes sense as milliseconds, but "
                                  "time_format is unix (seconds)",
                                  subject, describe_value(highest.front())),
                      hint);
    }
    if (format == TimeFormat::unix_millis && low < k_millis_threshold) {
      throw DataError(fmt::format("{} holds {} which only makes sense as seconds, but "
                                  "time_format is unix_ms",
                                  subject, describe_value(values.front())),
                      hint);
    }
    encoding.format = format;
  } else {
    if (configured == TimeFormat::unix_seconds || configured == TimeFormat::unix_millis) {
      throw DataError(fmt::format("{} holds text ({}) but time_format is {}", subject, describe_value(values.front()),
                                  time_format_name(configured)),
                      hint);
    }
    std::optional<TimeEncoding> layout;
    for (const auto& v : values) {
      const auto* text = std::get_if<std::string>(&v);
      const auto parsed = text != nullptr ? parse_iso(*text) : std::nullopt;
      if (!parsed) {
        throw DataError(fmt::format("{} holds {}, which is not an ISO-8601 UTC timestamp", subject, describe_value(v)),
                        hint);
      }
      if (layout && !same_layout(*layout, parsed->layout)) {
        throw DataError(fmt::format("{} mixes timestamp layouts ({} and {})", subject, describe_value(values.front()),
                                    describe_value(v)),
                        hint);
      }
      layout = parsed->layout;
    }
    encoding = *layout;
    encoding.format = TimeFormat::iso8601;
  }

  if (settings.zone != nullptr) {
    const std::string zone_hint = fmt::format("remove time_zone from [{}]: it is for columns of wall-clock times "
                                              "without a zone; nothing was deleted",
                                              what);
    std::string own;
    if (numeric) {
      own = fmt::format("holds unix times ({}), which count from UTC", describe_value(values.front()));
    } else if (!native && !encoding.suffix.empty()) {
      own = fmt::format("holds UTC times ({})", describe_value(values.front()));
    } else if (native && store.column_time(table, column) == ColumnTime::instant) {
      own = "has a type with a zone: its values are instants";
    }
    if (!own.empty()) {
      throw DataError(fmt::format("{} {}, so time_zone = \"{}\" does not apply", subject, own, settings.zone->name()),
                      zone_hint);
    }
    encoding.zone = settings.zone;
  }

  const TimePoint earliest{date::sys_days{date::year{1990} / 1 / 1}};
  const TimePoint latest = now + future;
  for (const auto& v : values) {
    const TimePoint t = decode_time(v, encoding);
    if (t < earliest || t > latest) {
      throw DataError(fmt::format("{} holds an implausible time {} ({}): {}", subject, describe_value(v),
                                  encoding.describe(),
                                  t < earliest ? std::string("before 1990")
                                  : future == std::chrono::hours(24)
                                    ? std::string("more than a day in the future")
                                    : fmt::format("more than {} in the future", format_duration(future))),
                      hint);
    }
  }
  return encoding;
}

namespace {

// One value of a column read in `encoding`: the instant, or why it is not one.
struct ReadValue {
  std::optional<TimePoint> instant;
  std::string problem; // "which is not an ISO-8601 UTC timestamp", ... when not
};

ReadValue read_value(const Value& value, const TimeEncoding& encoding)
{
  if (encoding.format == TimeFormat::iso8601 && !encoding.native) {
    const auto* text = std::get_if<std::string>(&value);
    const auto parsed = text != nullptr ? parse_iso(*text) : std::nullopt;
    if (!parsed) {
      return {std::nullopt, "which is not an ISO-8601 UTC timestamp"};
    }
    if (!same_layout(parsed->layout, encoding)) {
      return {std::nullopt,
              fmt::format("which mixes timestamp layouts: it is not {} like the rest", encoding.describe())};
    }
    return {from_wall(parsed->instant, encoding.zone), {}};
  }
  try {
    return {decode_time(value, encoding), {}};
  } catch (const DataError& e) {
    return {std::nullopt, e.what()};
  }
}

const TimePoint k_earliest{date::sys_days{date::year{1990} / 1 / 1}};

// Stretches of this many rows: each read is a few milliseconds, so the application's writers
// are never held up for long between them.
constexpr std::size_t k_stretch = 4000;

// Calls `each(value, key)` for every row of `rows` in the order of `column` then `key_column`,
// read in stretches; returns how many rows it read.
template <typename Each>
std::int64_t walk_values(Store& store, const RowSet& rows, std::string_view column, std::string_view key_column,
                         Each&& each)
{
  const std::vector<std::string> order{std::string(column), std::string(key_column)};
  std::vector<Value> after;
  std::int64_t read = 0;
  while (true) {
    RowSet stretch_rows = rows;
    if (!after.empty()) {
      stretch_rows.where.emplace_back(Within{order, after, {}});
    }
    const auto stretch = store.read_ordered(stretch_rows, order, k_stretch);
    for (const auto& row : stretch) {
      each(row[0], row[1]);
    }
    read += static_cast<std::int64_t>(stretch.size());
    if (stretch.size() < k_stretch) {
      return read;
    }
    after = stretch.back();
  }
}

// The layout of the column's lowest values that read as times, ignoring the rest: what a
// column with a few bad values is mostly written in.
std::optional<TimeEncoding> low_side_encoding(Store& store, std::string_view table, std::string_view column,
                                              TimeSettings settings)
{
  const TimeFormat configured = settings.format;
  for (const Value& v : store.sample(table, column, k_sample_size, false)) {
    if (std::holds_alternative<Timestamp>(v)) {
      TimeEncoding encoding;
      encoding.native = true;
      encoding.zone = settings.zone;
      return encoding;
    }
    if (const auto number = as_number(v); number && configured != TimeFormat::iso8601) {
      TimeEncoding encoding;
      encoding.format = configured != TimeFormat::auto_detect ? configured
                        : *number >= k_millis_threshold       ? TimeFormat::unix_millis
                                                              : TimeFormat::unix_seconds;
      return encoding;
    }
    const auto* text = std::get_if<std::string>(&v);
    if (const auto parsed = text != nullptr ? parse_iso(*text) : std::nullopt;
        parsed && (configured == TimeFormat::auto_detect || configured == TimeFormat::iso8601)) {
      TimeEncoding encoding = parsed->layout;
      encoding.format = TimeFormat::iso8601;
      encoding.zone = encoding.suffix.empty() ? settings.zone : nullptr;
      return encoding;
    }
  }
  return std::nullopt;
}

} // namespace

std::int64_t check_old_side(Store& store, std::string_view table, std::string_view column, std::string_view key_column,
                            const TimeEncoding& encoding, TimePoint cutoff, std::string_view what)
{
  const Value bound = encoding.encode(cutoff);
  const std::string subject = fmt::format("{}: column '{}.{}'", what, table, column);
  const std::string hint = fmt::format("fix the row (or set time_format in [{}]); nothing was deleted", what);
  const RowSet old_side{std::string(table), {Before{std::string(column), bound}}};
  return walk_values(store, old_side, column, key_column, [&](const Value& value, const Value& key) {
    const std::string at = fmt::format("{} (at {} = {})", describe_value(value), key_column, describe_value(key));
    const ReadValue read = read_value(value, encoding);
    if (!read.instant) {
      throw DataError(fmt::format("{} holds {}, {}", subject, at, read.problem), hint);
    }
    if (*read.instant < k_earliest) {
      throw DataError(fmt::format("{} holds an implausible time {}: before 1990", subject, at), hint);
    }
    if (*read.instant >= cutoff) {
      throw DataError(fmt::format("{} holds {}, which sorts before the cutoff {} but is not older", subject, at,
                                  describe_value(bound)),
                      hint);
    }
  });
}

RecentCount count_recent(Store& store, std::string_view table, std::string_view column, std::string_view key_column,
                         TimeSettings configured, TimePoint since, TimePoint now, std::string_view what)
{
  RecentCount out;
  std::optional<TimeEncoding> encoding;
  try {
    encoding = detect_time_encoding(store, table, column, configured, now, what);
    if (!encoding) {
      return out;
    }
    // Every sampled value is plausible: one count by the index.
    out.recent = store.count(RowSet{std::string(table), {AtOrAfter{std::string(column), encoding->encode(since)}}});
    return out;
  } catch (const DataError& e) {
    out.first_problem = e.what();
  }
  // Some values are not plausible times: read the recent side value by value, counting what
  // reads as a time in the window and what does not. Values in another layout sort by their
  // text, so those sorting below the window are not seen.
  encoding = low_side_encoding(store, table, column, configured);
  if (!encoding) {
    out.unparseable = store.count(RowSet{std::string(table), {}}); // none of the lowest values reads as a time
    return out;
  }
  const TimePoint latest = now + std::chrono::hours(24);
  const RowSet recent_side{std::string(table), {AtOrAfter{std::string(column), encoding->encode(since)}}};
  walk_values(store, recent_side, column, key_column, [&](const Value& value, const Value& key) {
    const ReadValue read = read_value(value, *encoding);
    if (read.instant && *read.instant >= since && *read.instant <= latest) {
      ++out.recent;
      return;
    }
    if (out.unparseable++ == 0) {
      out.first_problem = fmt::format("{}: column '{}.{}' holds {} (at {} = {}), {}", what, table, column,
                                      describe_value(value), key_column, describe_value(key),
                                      read.instant ? std::string("more than a day in the future") : read.problem);
    }
  });
  return out;
}

} // namespace housekeep
