#include "housekeep/error.hpp"
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
    return detect_time_encoding(*store, "t", "at", format, test::test_now(), "tasks.test");
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
