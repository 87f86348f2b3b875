#include "housekeep/error.hpp"
#include "housekeep/schedule.hpp"
#include "housekeep/time_column.hpp"

#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

using namespace housekeep;
using test::Sql;

namespace {

struct Column {
  test::TempDir dir;
  std::string path = dir.file("t.db");
  std::unique_ptr<Store> store;
  const date::time_zone* zone = nullptr; // time_zone of the task

  explicit Column(const std::string& values)
  {
    Sql sql(path);
    sql.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, at);");
    if (!values.empty()) {
      sql.exec("INSERT INTO t (at) VALUES " + values);
    }
    store = open_store(parse_database_url(path), OpenOptions{});
  }

  std::optional<TimeEncoding> detect(TimeFormat format = TimeFormat::auto_detect)
  {
    return detect_time_encoding(*store, "t", "at", TimeSettings{format, zone}, test::test_now(), "tasks.test");
  }

  std::string error(TimeFormat format = TimeFormat::auto_detect)
  {
    try {
      detect(format);
    } catch (const DataError& e) {
      return e.what();
    }
    return "no error";
  }
};

} // namespace

TEST_CASE("ISO layouts are detected and the cutoff is written the same way", "[time]")
{
  const TimePoint cutoff = test::test_now() - std::chrono::hours(24);
  struct Row {
    const char* values;
    const char* expected_cutoff;
  };
  const Row rows[] = {
    {"('2026-06-01 10:00:00'), ('2026-06-10 11:00:00.123456')", "2026-06-14 12:00:00"},
    {"('2026-06-01T10:00:00'), ('2026-06-10T11:00:00')", "2026-06-14T12:00:00"},
    {"('2026-06-01T10:00:00Z'), ('2026-06-10T11:00:00.5Z')", "2026-06-14T12:00:00.000Z"},
    {"('2026-06-01T10:00:00+00:00')", "2026-06-14T12:00:00.000+00:00"},
    {"('2026-06-01 10:00'), ('2026-06-02 10:30')", "2026-06-14 12:00"},
    {"('2026-06-01'), ('2026-06-02')", "2026-06-14"},
  };
  for (const auto& row : rows) {
    INFO(row.values);
    Column column(row.values);
    const auto encoding = column.detect();
    REQUIRE(encoding);
    CHECK(encoding->format == TimeFormat::iso8601);
    CHECK(std::get<std::string>(encoding->encode(cutoff)) == row.expected_cutoff);
  }
}

TEST_CASE("unix seconds and milliseconds are told apart by magnitude", "[time]")
{
  const TimePoint cutoff = test::test_now();
  Column seconds("(1780000000), (1781000000)");
  REQUIRE(seconds.detect());
  CHECK(seconds.detect()->format == TimeFormat::unix_seconds);
  CHECK(std::get<std::int64_t>(seconds.detect()->encode(cutoff)) == 1781524800);
  Column millis("(1780000000000), (1781000000123)");
  CHECK(millis.detect()->format == TimeFormat::unix_millis);
  CHECK(std::get<std::int64_t>(millis.detect()->encode(cutoff)) == 1781524800000);
  Column real("(1780000000.5)");
  CHECK(real.detect()->format == TimeFormat::unix_seconds);
}

TEST_CASE("an empty column has no encoding: nothing can be compared", "[time]")
{
  Column empty("");
  CHECK_FALSE(empty.detect().has_value());
  Column nulls("(NULL), (NULL)");
  CHECK_FALSE(nulls.detect().has_value());
}

TEST_CASE("mixed / unparseable or implausible values stop with a data error", "[time]")
{
  CHECK(Column("(1780000000), ('2026-06-01 10:00:00')").error() ==
        "tasks.test: column 't.at' mixes numbers and text (1780000000 and '2026-06-01 10:00:00')");
  CHECK(Column("('2026-06-01 10:00:00'), ('2026-06-01T10:00:00')").error().find("mixes timestamp layouts") !=
        std::string::npos);
  CHECK(Column("('2026-06-01 10:00:00'), ('yesterday')").error() ==
        "tasks.test: column 't.at' holds 'yesterday', which is not an ISO-8601 UTC timestamp");
  CHECK(Column("('2026-06-01T10:00:00+02:00')").error().find("not an ISO-8601 UTC timestamp") != std::string::npos);
  CHECK(Column("('2026-02-30 10:00:00')").error().find("not an ISO-8601") != std::string::npos);
  CHECK(Column("(1780000000), (1780000000000)").error().find("mixes unix seconds and milliseconds") !=
        std::string::npos);
  CHECK(Column("('1970-01-02 00:00:00')").error().find("before 1990") != std::string::npos);
  CHECK(Column("('2027-01-01 00:00:00')").error().find("more than a day in the future") != std::string::npos);
  CHECK(Column("(100)").error().find("before 1990") != std::string::npos);
  // The classic unit mix-up: milliseconds read as seconds would delete everything (or nothing).
  CHECK(Column("(1780000000000)").error(TimeFormat::unix_seconds).find("only makes sense as milliseconds") !=
        std::string::npos);
  CHECK(Column("(1780000000)").error(TimeFormat::unix_millis).find("only makes sense as seconds") != std::string::npos);
  CHECK(Column("(1780000000)").error(TimeFormat::iso8601).find("holds numbers") != std::string::npos);
  CHECK(Column("('2026-06-01')").error(TimeFormat::unix_seconds).find("holds text") != std::string::npos);
}

TEST_CASE("time_zone: wall-clock text is compared in its zone, a repeated hour from its start", "[time]")
{
  using namespace std::chrono;
  const date::time_zone* berlin = find_zone("Europe/Berlin");
  Column column("('2026-06-01 10:00:00'), ('2026-06-10 11:00:00')");
  column.zone = berlin;
  const auto encoding = column.detect();
  REQUIRE(encoding);
  CHECK(encoding->describe() == "iso8601 (2026-01-31 10:00:00), wall-clock times in Europe/Berlin");
  // Summer: UTC+2.
  CHECK(std::get<std::string>(encoding->encode(test::test_now())) == "2026-06-15 14:00:00");
  CHECK(decode_time(Value{std::string("2026-06-15 14:00:00")}, *encoding) == test::test_now());
  // Winter: UTC+1.
  const TimePoint january{date::sys_days{date::year{2026} / 1 / 10}};
  CHECK(std::get<std::string>(encoding->encode(january)) == "2026-01-10 01:00:00");

  // Clocks go back at 01:00 UTC on 25 October 2026: 02:00-03:00 happens twice in Berlin. An
  // instant in the first pass is written as 02:00, so "02:10" (which may be the second pass,
  // after the cutoff) is kept; in the second pass, as itself.
  const TimePoint fold{date::sys_days{date::year{2026} / 10 / 25} + hours(1)};
  CHECK(std::get<std::string>(encoding->encode(fold - minutes(30))) == "2026-10-25 02:00:00"); // 02:30 CEST
  CHECK(std::get<std::string>(encoding->encode(fold + minutes(30))) == "2026-10-25 02:30:00"); // 02:30 CET
  CHECK(std::get<std::string>(encoding->encode(fold + minutes(60))) == "2026-10-25 03:00:00");
  CHECK(std::get<std::string>(encoding->encode(fold - minutes(61))) == "2026-10-25 01:59:00");
  // A repeated time reads as the later instant, never as older than it may be.
  CHECK(decode_time(Value{std::string("2026-10-25 02:30:00")}, *encoding) == fold + minutes(30));
  // Clocks skipped 02:00-03:00 on 29 March 2026: a time in the gap reads by the offset before
  // the jump, as PostgreSQL reads it (02:30 at UTC+1).
  CHECK(decode_time(Value{std::string("2026-03-29 02:30:00")}, *encoding) ==
        TimePoint{date::sys_days{date::year{2026} / 3 / 29} + hours(1) + minutes(30)});

  Column dates("('2026-06-01'), ('2026-06-10')");
  dates.zone = berlin;
  // 23:30 UTC on the 14th is already the 15th in Berlin.
  CHECK(std::get<std::string>(dates.detect()->encode(test::test_now() - hours(12) - minutes(30))) == "2026-06-15");
}

TEST_CASE("time_zone is refused for times that carry their own zone", "[time]")
{
  const date::time_zone* berlin = find_zone("Europe/Berlin");
  Column unix("(1780000000), (1781000000)");
  unix.zone = berlin;
  CHECK(unix.error() == "tasks.test: column 't.at' holds unix times (1780000000), which count from UTC, so "
                        "time_zone = \"Europe/Berlin\" does not apply");
  Column utc("('2026-06-01T10:00:00Z')");
  utc.zone = berlin;
  CHECK(utc.error().find("holds UTC times ('2026-06-01T10:00:00Z'), so time_zone") != std::string::npos);
  // Without the zone both read as before.
  CHECK(Column("('2026-06-01T10:00:00Z')").detect().has_value());
}
