#include "housekeep/cron.hpp"
#include "housekeep/schedule.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace housekeep;

namespace {

std::string parse_error(const std::string& text)
{
  try {
    CronExpr::parse(text);
  } catch (const CronError& e) {
    return e.what();
  }
  return "no error";
}

} // namespace

TEST_CASE("cron: valid forms parse", "[cron]")
{
  for (const char* text : {"* * * * *",     "0 2 * * *",      "0 3 * * sun",  "0 3 * * SUN",   "0 3 * * 7",
                           "*/15 * * * *",  "1-10/3 * * * *", "5/10 * * * *", "0 0 1,15 * *",  "0 0 * jan-mar mon-fri",
                           "0 0 29 2 *",    "30 0 2 * * *",   "0 0 31 * *",   "@yearly",       "@annually",
                           "@monthly",      "@weekly",        "@daily",       "@midnight",     "@hourly",
                           "  0 2 * * *  ", "0\t2\t*\t*\t*",  "0 0 * * 5-7",  "0 12 * Dec Fri"}) {
    INFO(text);
    CHECK_NOTHROW(CronExpr::parse(text));
  }
}

TEST_CASE("cron: every error names the field and the offending text", "[cron]")
{
  struct Row {
    const char* text;
    const char* message;
  };
  const Row rows[] = {
    {"61 * * * *", "minute: 61 is out of range 0-59"},
    {"* 24 * * *", "hour: 24 is out of range 0-23"},
    {"* * 0 * *", "day-of-month: 0 is out of range 1-31"},
    {"* * 32 * *", "day-of-month: 32 is out of range 1-31"},
    {"* * * 13 *", "month: 13 is out of range 1-12"},
    {"* * * * 8", "day-of-week: 8 is out of range 0-7"},
    {"60 * * * * *", "second: 60 is out of range 0-59"},
    {"x * * * *", "minute: 'x' is not a number"},
    {"* * * foo *", "month: 'foo' is not a number or a month name (jan-dec)"},
    {"* * * * funday", "day-of-week: 'funday' is not a number or a day name (sun-sat)"},
    {"*/0 * * * *", "minute: step 0 is out of range 1-59"},
    {"*/x * * * *", "minute: step 'x' is not a number"},
    {"10-5 * * * *", "minute: range 10-5 is backwards"},
    {"1,,2 * * * *", "minute: empty list item in '1,,2'"},
    {"* * L * *", "day-of-month: 'L' is not supported (housekeep's cron syntax has no L, W, # or ?)"},
    {"* * 15W * *", "day-of-month: '15W' is not supported (housekeep's cron syntax has no L, W, # or ?)"},
    {"* * * * 5#3", "day-of-week: '5#3' is not supported (housekeep's cron syntax has no L, W, # or ?)"},
    {"* * ? * *", "day-of-month: '?' is not supported (housekeep's cron syntax has no L, W, # or ?)"},
    {"@reboot", "'@reboot' is not supported: housekeep schedules time-based firings only"},
    {"@fortnightly", "unknown macro '@fortnightly'"},
    {"* * * *",
     "expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, got 4 in '* * * *'"},
    {"", "expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, got 0 in ''"},
    {"0 0 30 2 *", "day-of-month: '30' never occurs in month '2', so the expression never fires"},
    {"0 0 31 4,6 *", "day-of-month: '31' never occurs in month '4,6', so the expression never fires"},
  };
  for (const auto& row : rows) {
    INFO(row.text);
    CHECK(parse_error(row.text) == row.message);
  }
}

TEST_CASE("cron: both day fields restricted match either (the classic rule)", "[cron]")
{
  const CronExpr e = CronExpr::parse("0 0 13 * fri");
  // 2026-02-13 is a Friday, 2026-03-13 a Friday too; 2026-04-13 a Monday; 2026-04-17 a Friday.
  CHECK(e.matches(2026, 4, 13, 1, 0, 0, 0));
  CHECK(e.matches(2026, 4, 17, 5, 0, 0, 0));
  CHECK_FALSE(e.matches(2026, 4, 14, 2, 0, 0, 0));
  const CronExpr only_dom = CronExpr::parse("0 0 13 * *");
  CHECK_FALSE(only_dom.matches(2026, 4, 17, 5, 0, 0, 0));
  const CronExpr step_dom = CronExpr::parse("0 0 */2 * fri");
  // A '*'-led field counts as unrestricted (Vixie cron): only Fridays of odd days... both needed.
  CHECK(step_dom.matches(2026, 4, 17, 5, 0, 0, 0));
  CHECK_FALSE(step_dom.matches(2026, 4, 15, 3, 0, 0, 0));
}

TEST_CASE("cron: descriptions read as words", "[cron]")
{
  CHECK(CronExpr::parse("0 2 * * *").describe() == "At 02:00");
  CHECK(CronExpr::parse("0 3 * * sun").describe() == "At 03:00, only on Sunday");
  CHECK(CronExpr::parse("*/15 * * * *").describe() == "Every 15 minutes");
  CHECK(CronExpr::parse("* * * * *").describe() == "Every minute");
  CHECK(CronExpr::parse("0 * * * *").describe() == "At minute 0 past every hour");
  CHECK(CronExpr::parse("0 9 * * mon-fri").describe() ==
        "At 09:00, only on Monday, Tuesday, Wednesday, Thursday and Friday");
  CHECK(CronExpr::parse("0 0 29 2 *").describe() == "At 00:00, on day 29 of the month, in February");
  CHECK(CronExpr::parse("0 0 1 * mon").describe() == "At 00:00, on day 1 of the month or on Monday");
  CHECK(CronExpr::parse("30 6,18 * * *").describe() == "At 06:30 and 18:30");
  CHECK(CronExpr::parse("15 30 2 * * *").describe() == "At 02:30:15");
}

// Vectors computed by an independent engine (croniter, with Vixie cron's day rule), committed
// as data by tests/cron/make_vectors.py: steps, ranges and lists in every field, both day
// fields together, seconds, macros; five fire times after each of four instants.
TEST_CASE("cron: next fire times agree with an independent engine", "[cron]")
{
  std::ifstream in(HOUSEKEEP_TESTS_DIR "/cron/vectors.tsv");
  REQUIRE(in.good());
  const date::time_zone* utc = find_zone("UTC");
  std::string line;
  int vectors = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line.starts_with("#")) {
      continue;
    }
    std::vector<std::string> fields;
    std::stringstream split(line);
    for (std::string field; std::getline(split, field, '\t');) {
      fields.push_back(field);
    }
    REQUIRE(fields.size() == 7);
    INFO(fields[0] << " after " << fields[1]);
    const Schedule schedule = Schedule::parse(fields[0]);
    TimePoint t = parse_time_in_zone(fields[1], utc);
    for (std::size_t i = 2; i < fields.size(); ++i) {
      const auto next = next_fire(schedule, utc, t);
      REQUIRE(next.has_value());
      CHECK(format_in_zone(*next, utc) == fields[i]);
      t = *next;
    }
    ++vectors;
  }
  CHECK(vectors >= 150);
}
