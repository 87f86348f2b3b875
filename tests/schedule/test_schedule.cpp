// Next fire times: table-driven "from -> next" cases, daylight-saving changes in three zones,
// and the property users rely on: a daily job fires exactly once per local day.
#include "housekeep/error.hpp"
#include "housekeep/schedule.hpp"

#include <catch2/catch.hpp>
#include <date/tz.h>

#include <map>

using namespace housekeep;
using namespace std::chrono;

namespace {

std::string next_after(const std::string& expression, const std::string& zone, const std::string& from)
{
  const auto* tz = find_zone(zone);
  const auto next = next_fire(Schedule::parse(expression), tz, parse_time_in_zone(from, tz));
  return next ? format_in_zone(*next, tz) : "never";
}

std::vector<std::string> series(const std::string& expression, const std::string& zone, const std::string& from,
                                int count)
{
  const auto* tz = find_zone(zone);
  const Schedule schedule = Schedule::parse(expression);
  std::vector<std::string> out;
  TimePoint t = parse_time_in_zone(from, tz);
  for (int i = 0; i < count; ++i) {
    t = *next_fire(schedule, tz, t);
    out.push_back(format_in_zone(t, tz));
  }
  return out;
}

} // namespace

TEST_CASE("next fire: from -> next, in UTC", "[schedule]")
{
  struct Row {
    const char* expression;
    const char* from;
    const char* next;
  };
  const Row rows[] = {
    {"0 2 * * *", "2026-03-01T01:59:59Z", "2026-03-01T02:00:00+00:00"},
    {"0 2 * * *", "2026-03-01T02:00:00Z", "2026-03-02T02:00:00+00:00"}, // strictly after
    {"0 2 * * *", "2026-12-31T03:00:00Z", "2027-01-01T02:00:00+00:00"}, // year rollover
    {"*/15 * * * *", "2026-03-01T10:07:00Z", "2026-03-01T10:15:00+00:00"},
    {"*/15 * * * *", "2026-03-01T23:59:00Z", "2026-03-02T00:00:00+00:00"},
    {"1-10/3 * * * *", "2026-03-01T10:04:00Z", "2026-03-01T10:07:00+00:00"},
    {"1-10/3 * * * *", "2026-03-01T10:10:00Z", "2026-03-01T11:01:00+00:00"},
    {"0 0 29 2 *", "2026-01-01T00:00:00Z", "2028-02-29T00:00:00+00:00"}, // leap years only
    {"0 0 29 2 *", "2028-02-29T00:00:00Z", "2032-02-29T00:00:00+00:00"},
    {"0 0 29 2 *", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00+00:00"}, // 2100 is no leap year
    {"0 0 31 * *", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00+00:00"}, // skips 30-day months
    {"0 0 31 * *", "2026-07-31T00:00:00Z", "2026-08-31T00:00:00+00:00"},
    {"0 0 13 * fri", "2026-04-01T00:00:00Z", "2026-04-03T00:00:00+00:00"}, // Friday first
    {"0 0 13 * fri", "2026-04-10T00:00:00Z", "2026-04-13T00:00:00+00:00"}, // then the 13th
    {"0 0 29 2 1", "2026-01-01T00:00:00Z", "2026-02-02T00:00:00+00:00"},
    {"0 3 * * sun", "2026-11-24T12:00:00Z", "2026-11-29T03:00:00+00:00"},
    {"0 3 * * 0", "2026-11-24T12:00:00Z", "2026-11-29T03:00:00+00:00"},
    {"0 3 * * 7", "2026-11-24T12:00:00Z", "2026-11-29T03:00:00+00:00"},
    {"30 0 2 * * *", "2026-03-01T02:00:00Z", "2026-03-01T02:00:30+00:00"}, // seconds field
    {"@hourly", "2026-03-01T10:00:00Z", "2026-03-01T11:00:00+00:00"},
    {"@weekly", "2026-11-24T00:00:00Z", "2026-11-29T00:00:00+00:00"},
    {"@monthly", "2026-12-15T00:00:00Z", "2027-01-01T00:00:00+00:00"},
    {"@yearly", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00+00:00"},
    {"0 12 * dec fri", "2026-01-01T00:00:00Z", "2026-12-04T12:00:00+00:00"},
    {"@every 6h", "2026-01-01T00:00:00Z", "2026-01-01T06:00:00+00:00"},
    {"@every 90s", "2026-01-01T00:00:00Z", "2026-01-01T00:01:30+00:00"},
  };
  for (const auto& row : rows) {
    INFO(row.expression << " after " << row.from);
    CHECK(next_after(row.expression, "UTC", row.from) == row.next);
  }
}

TEST_CASE("daylight saving in America/New_York", "[schedule][dst]")
{
  // Spring forward 2027-03-14 02:00 EST -> 03:00 EDT: 02:30 does not exist, fires at 03:00.
  CHECK(
    series("30 2 * * *", "America/New_York", "2027-03-13T00:00:00", 3) ==
    std::vector<std::string>{"2027-03-13T02:30:00-05:00", "2027-03-14T03:00:00-04:00", "2027-03-15T02:30:00-04:00"});
  // Several times in the gap still fire once.
  CHECK(series("*/20 2 * * *", "America/New_York", "2027-03-14T00:00:00", 2) ==
        std::vector<std::string>{"2027-03-14T03:00:00-04:00", "2027-03-15T02:00:00-04:00"});
  // Fall back 2026-11-01 02:00 EDT -> 01:00 EST: 01:30 occurs twice, fires at the first only.
  CHECK(series("30 1 * * *", "America/New_York", "2026-10-31T12:00:00", 2) ==
        std::vector<std::string>{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"});
  // '*' hours follow real time: nothing invented in the gap, the repeated hour fires twice.
  CHECK(
    series("0 * * * *", "America/New_York", "2027-03-14T00:30:00", 3) ==
    std::vector<std::string>{"2027-03-14T01:00:00-05:00", "2027-03-14T03:00:00-04:00", "2027-03-14T04:00:00-04:00"});
  CHECK(series("30 * * * *", "America/New_York", "2026-11-01T00:45:00", 4) ==
        std::vector<std::string>{"2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00", "2026-11-01T02:30:00-05:00",
                                 "2026-11-01T03:30:00-05:00"});
  // Fixed times outside the change are untouched.
  CHECK(next_after("0 2 * * *", "America/New_York", "2026-11-01T00:00:00") == "2026-11-01T02:00:00-05:00");
}

TEST_CASE("daylight saving in Europe/Berlin", "[schedule][dst]")
{
  CHECK(series("30 2 * * *", "Europe/Berlin", "2027-03-27T12:00:00", 2) ==
        std::vector<std::string>{"2027-03-28T03:00:00+02:00", "2027-03-29T02:30:00+02:00"});
  CHECK(series("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00", 2) ==
        std::vector<std::string>{"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"});
  CHECK(series("*/30 * * * *", "Europe/Berlin", "2026-10-25T01:45:00", 5) ==
        std::vector<std::string>{"2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T02:00:00+01:00",
                                 "2026-10-25T02:30:00+01:00", "2026-10-25T03:00:00+01:00"});
}

TEST_CASE("daylight saving in Australia/Sydney (southern hemisphere)", "[schedule][dst]")
{
  // Forward on 2026-10-04 02:00 AEST -> 03:00 AEDT; back on 2027-04-04 03:00 AEDT -> 02:00 AEST.
  CHECK(next_after("15 2 * * *", "Australia/Sydney", "2026-10-04T00:00:00") == "2026-10-04T03:00:00+11:00");
  CHECK(series("30 2 * * *", "Australia/Sydney", "2027-04-03T12:00:00", 2) ==
        std::vector<std::string>{"2027-04-04T02:30:00+11:00", "2027-04-05T02:30:00+10:00"});
  CHECK(
    series("30 * * * *", "Australia/Sydney", "2027-04-04T02:00:00", 3) ==
    std::vector<std::string>{"2027-04-04T02:30:00+11:00", "2027-04-04T02:30:00+10:00", "2027-04-04T03:30:00+10:00"});
}

TEST_CASE("a daily expression fires exactly once per local day for three years", "[schedule][dst]")
{
  for (const char* zone : {"America/New_York", "Europe/Berlin", "Australia/Sydney"}) {
    for (const char* expression : {"30 2 * * *", "0 2 * * *", "59 1 * * *", "0 3 * * *", "0 0 * * *", "45 23 * * *"}) {
      INFO(zone << " " << expression);
      const auto* tz = find_zone(zone);
      const Schedule schedule = Schedule::parse(expression);
      std::map<date::local_days, int> fires;
      TimePoint t = parse_time_in_zone("2025-12-31T12:00:00", tz);
      const TimePoint end = parse_time_in_zone("2029-01-01T00:00:00", tz);
      while (true) {
        const auto next = next_fire(schedule, tz, t);
        REQUIRE(next);
        REQUIRE(*next > t);
        if (*next >= end) {
          break;
        }
        const auto day = floor<date::days>(tz->to_local(floor<seconds>(*next)));
        if (day >= date::local_days{date::year{2026} / 1 / 1}) {
          ++fires[day];
        }
        t = *next;
      }
      CHECK(fires.size() == 1096); // 2026, 2027, 2028 (leap year)
      int worst = 0;
      for (const auto& [day, count] : fires) {
        worst = std::max(worst, count);
      }
      CHECK(worst == 1);
    }
  }
}

TEST_CASE("DST preview names what happens to affected firings", "[schedule][dst]")
{
  const auto* tz = find_zone("America/New_York");
  const TimePoint from = parse_time_in_zone("2026-11-24T00:00:00", tz);
  const auto notes =
    dst_preview(Schedule::parse("30 2 * * *").cron()[0], tz, "America/New_York", from, from + date::days{366});
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].text == "2027-03-14: 02:30 does not exist in America/New_York; fires once at 03:00 EDT");
  const auto fall =
    dst_preview(*Schedule::parse("30 1 * * *").cron(), tz, "America/New_York", from, from + date::days{366});
  REQUIRE(fall.size() == 1);
  CHECK(fall[0].text == "2027-11-07: 01:30 occurs twice in America/New_York; fires once, at the first (01:30 EDT)");
  CHECK(
    dst_preview(*Schedule::parse("0 12 * * *").cron(), tz, "America/New_York", from, from + date::days{366}).empty());
  CHECK(
    dst_preview(*Schedule::parse("0 2 * * *").cron(), find_zone("UTC"), "UTC", from, from + date::days{366}).empty());
}

TEST_CASE("times in and out of zones", "[schedule]")
{
  const auto* ny = find_zone("America/New_York");
  CHECK(format_in_zone(parse_time_in_zone("2026-03-08T07:00:00Z", ny), ny) == "2026-03-08T03:00:00-04:00");
  CHECK(format_in_zone(parse_time_in_zone("2026-01-01", find_zone("UTC")), find_zone("UTC")) ==
        "2026-01-01T00:00:00+00:00");
  CHECK(format_in_zone(parse_time_in_zone("2026-01-01T05:30:00+0530", find_zone("UTC")), find_zone("UTC")) ==
        "2026-01-01T00:00:00+00:00");
  // Wall time in a gap means the end of the gap; a repeated one its first occurrence.
  CHECK(format_in_zone(parse_time_in_zone("2027-03-14T02:30", ny), ny) == "2027-03-14T03:00:00-04:00");
  CHECK(format_in_zone(parse_time_in_zone("2026-11-01 01:30", ny), ny) == "2026-11-01T01:30:00-04:00");
  CHECK(format_in_zone(parse_time_in_zone("2026-07-01T12:00:00", find_zone("Asia/Kolkata")),
                       find_zone("Asia/Kolkata")) == "2026-07-01T12:00:00+05:30");
  for (const char* bad : {"2026-13-01", "yesterday", "2026-01-01T25:00", "2026-01-01T10:00+5", "2026-01-01X"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_time_in_zone(bad, ny), UsageError);
  }
  CHECK_THROWS_AS(find_zone("Mars/Olympus_Mons"), UsageError);
  CHECK_THROWS_AS(Schedule::parse("@every"), CronError);
  CHECK_THROWS_AS(Schedule::parse("@every 0s"), CronError);
  CHECK_THROWS_AS(Schedule::parse("@every soon"), CronError);
}
