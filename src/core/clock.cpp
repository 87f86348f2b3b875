#include "housekeep/clock.hpp"

#include "housekeep/error.hpp"

#include <date/date.h>
#include <fmt/format.h>

#include <thread>

namespace housekeep {

TimePoint SystemClock::now() const
{
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

void SystemClock::sleep_for(std::chrono::milliseconds duration) const
{
  std::this_thread::sleep_for(duration);
}

std::string format_utc(TimePoint t)
{
  return date::format("%FT%TZ", t);
}

std::string format_utc_stamp(TimePoint t)
{
  return date::format("%Y%m%dT%H%M%SZ", std::chrono::floor<std::chrono::seconds>(t));
}

std::optional<TimePoint> parse_utc_stamp(std::string_view text)
{
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') {
    return std::nullopt;
  }
  try {
    return parse_utc(fmt::format("{}-{}-{}T{}:{}:{}Z", text.substr(0, 4), text.substr(4, 2), text.substr(6, 2),
                                 text.substr(9, 2), text.substr(11, 2), text.substr(13, 2)));
  } catch (const Error&) {
    return std::nullopt;
  }
}

TimePoint parse_utc(std::string_view text)
{
  // Fixed layout "YYYY-MM-DDTHH:MM:SS[.mmm]Z": digit positions are known, so read them.
  auto number = [&](std::size_t pos, std::size_t count, int& out) {
    if (pos + count > text.size()) {
      return false;
    }
    out = 0;
    for (std::size_t i = pos; i < pos + count; ++i) {
      if (text[i] < '0' || text[i] > '9') {
        return false;
      }
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
  const bool fraction = text.size() == 24;
  const bool valid = (text.size() == 20 || fraction) && number(0, 4, year) && text[4] == '-' && number(5, 2, month) &&
                     text[7] == '-' && number(8, 2, day) && text[10] == 'T' && number(11, 2, hour) && text[13] == ':' &&
                     number(14, 2, minute) && text[16] == ':' && number(17, 2, second) &&
                     (!fraction || (text[19] == '.' && number(20, 3, millis))) && text.back() == 'Z';
  const date::year_month_day ymd{date::year{year}, date::month{static_cast<unsigned>(month)},
                                 date::day{static_cast<unsigned>(day)}};
  if (!valid || !ymd.ok() || hour > 23 || minute > 59 || second > 60) {
    throw DataError(fmt::format("invalid UTC timestamp '{}'", text));
  }
  return TimePoint{date::sys_days{ymd}} + std::chrono::hours(hour) + std::chrono::minutes(minute) +
         std::chrono::seconds(second) + std::chrono::milliseconds(millis);
}

} // namespace housekeep
