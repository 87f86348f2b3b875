#include "housekeep/clock.hpp"
#include "housekeep/duration.hpp"
#include "housekeep/error.hpp"

#include <catch2/catch.hpp>

using namespace housekeep;
using namespace std::chrono;

TEST_CASE("parse_duration reads every unit and sums parts", "[duration]")
{
  struct Row {
    const char* text;
    milliseconds expected;
  };
  const Row rows[] = {
    {"90s", seconds(90)},         {"15m", minutes(15)},    {"6h", hours(6)},
    {"30d", hours(24 * 30)},      {"1w", hours(24 * 7)},   {"1h30m", minutes(90)},
    {"250ms", milliseconds(250)}, {"0s", milliseconds(0)}, {"1d12h", hours(36)},
    {"2m5s", seconds(125)},       {"0", milliseconds(0)},
  };
  for (const auto& row : rows) {
    INFO(row.text);
    CHECK(parse_duration(row.text) == row.expected);
  }
}

TEST_CASE("parse_duration refuses malformed text with a usage error", "[duration]")
{
  for (const char* text :
       {"", "30", "00", "d", "30x", "-5m", "1.5h", "5 m", "m5", "99999999999999999999s", "9999999999999w"}) {
    INFO(text);
    CHECK_THROWS_AS(parse_duration(text), UsageError);
  }
  try {
    parse_duration("30x");
    FAIL("no exception");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()) == "invalid duration '30x': missing or unknown unit (use ms, s, m, h, d or w)");
    CHECK(e.code() == ExitCode::usage);
    CHECK_FALSE(e.hint().empty());
  }
}

TEST_CASE("format_duration writes the largest units first and round-trips", "[duration]")
{
  CHECK(format_duration(milliseconds(0)) == "0s");
  CHECK(format_duration(minutes(90)) == "1h30m");
  CHECK(format_duration(hours(24 * 30)) == "30d");
  CHECK(format_duration(hours(24 * 14)) == "2w");
  CHECK(format_duration(hours(24 * 90)) == "90d");
  CHECK(format_duration(hours(24)) == "1d");
  CHECK(format_duration(milliseconds(1500)) == "1s500ms");
  for (const char* text : {"1h30m", "30d", "6h", "1w", "90s", "1d2h3m4s"}) {
    CHECK(parse_duration(format_duration(parse_duration(text))) == parse_duration(text));
  }
}

TEST_CASE("humanize_duration is short", "[duration]")
{
  CHECK(humanize_duration(milliseconds(412)) == "412ms");
  CHECK(humanize_duration(milliseconds(3200)) == "3.2s");
  CHECK(humanize_duration(seconds(245)) == "4m05s");
  CHECK(humanize_duration(minutes(130)) == "2h10m");
}

TEST_CASE("UTC stamps for file names: written to the second, read back, anything else refused", "[clock]")
{
  const TimePoint t = parse_utc("2026-11-25T02:03:04.567Z");
  CHECK(format_utc_stamp(t) == "20261125T020304Z");
  CHECK(parse_utc_stamp("20261125T020304Z") == parse_utc("2026-11-25T02:03:04Z"));
  for (const char* text : {"", "20261125T020304", "2026112502030Z4", "20261325T020304Z", "2026-11-25T02:03"}) {
    INFO(text);
    CHECK_FALSE(parse_utc_stamp(text).has_value());
  }
}
