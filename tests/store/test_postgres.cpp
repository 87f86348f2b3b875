// What only the PostgreSQL backend does: the session it sets up, the column types it reads,
// how it reports a server it cannot use, a lost connection, and leases left by the dead.
#include "housekeep/error.hpp"
#include "housekeep/schedule.hpp"
#include "housekeep/store.hpp"
#include "housekeep/time_column.hpp"
#include "store/backend.hpp"
#include "store/postgres/pg.hpp"
#include "store/postgres/postgres_backend.hpp"

#include "store/backends.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <cstdlib>

using namespace housekeep;
using test::PostgresDatabase;

#define HOUSEKEEP_PG_DB(db)                                                                                            \
  if (!PostgresDatabase::available()) {                                                                                \
    WARN("no PostgreSQL test server: case not run");                                                                   \
    return;                                                                                                            \
  }                                                                                                                    \
  PostgresDatabase db

namespace {

std::unique_ptr<Backend> backend_of(const PostgresDatabase& db, AccessMode mode = AccessMode::read_write)
{
  return open_postgres_backend(parse_database_url(db.url()), OpenOptions{mode, std::chrono::milliseconds(200)});
}

std::string text(Backend& backend, const std::string& sql)
{
  return std::get<std::string>(backend.first_value({sql, {}}, "test"));
}

} // namespace

TEST_CASE("postgres: every session is UTC, ISO and named housekeep, whatever the server's defaults",
          "[store][postgres]")
{
  HOUSEKEEP_PG_DB(db);
  // The premise: the server's own default is not UTC (the test script starts it so).
  CHECK(db.integer("SELECT count(*) FROM pg_settings WHERE name = 'TimeZone' AND setting <> 'UTC'") == 1);
  auto backend = backend_of(db);
  CHECK(text(*backend, "SHOW TimeZone") == "UTC");
  CHECK(text(*backend, "SHOW application_name") == "housekeep");
  CHECK(text(*backend, "SHOW DateStyle").starts_with("ISO"));
  CHECK(text(*backend, "SHOW lock_timeout") == "200ms");
  CHECK(backend->name().starts_with("hk_contract_"));
  CHECK(text(*backend_of(db, AccessMode::read_only), "SHOW default_transaction_read_only") == "on");
  // Planned for short index walks, without JIT.
  CHECK(text(*backend, "SHOW random_page_cost") == "1.1");
  CHECK(text(*backend, "SHOW jit") == "off");
  CHECK(text(*backend, "SHOW max_parallel_workers_per_gather") == "0");
}

TEST_CASE("postgres: the engine is told from version(), not from the version number it emulates", "[store][postgres]")
{
  CHECK(engine_of_version("PostgreSQL 15.4 (Debian 15.4-1) on x86_64-pc-linux-gnu, compiled by gcc 12.2.0, 64-bit") ==
        PgEngine::postgresql);
  CHECK(engine_of_version("CockroachDB CCL v23.1.11 (x86_64-pc-linux-gnu, built 2023/09/27 01:53:43, go1.19.10)") ==
        PgEngine::cockroachdb);
  CHECK(engine_of_version("PostgreSQL 11.2-YB-2.18.3.0-b0 on x86_64-pc-linux-gnu, compiled by clang version 15.0.3") ==
        PgEngine::yugabytedb);
}

TEST_CASE("postgres: column types are read as values of their kind", "[store][postgres]")
{
  HOUSEKEEP_PG_DB(db);
  db.exec("CREATE TABLE t (id BIGINT PRIMARY KEY, small SMALLINT, flag BOOLEAN, at TIMESTAMPTZ, plain TIMESTAMP, day "
          "DATE, ratio DOUBLE PRECISION, key UUID, data BYTEA, note TEXT)");
  db.exec("INSERT INTO t VALUES (9000000000, 7, TRUE, '2026-06-15 12:00:00.250+02', '2026-06-15 12:00:00', "
          "'2026-06-15', 0.5, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x00ff41', 'hé')");
  auto store = db.open();
  std::vector<Value> values;
  store->read_rows(RowSet{"t", {}},
                   [&](const std::vector<std::string>&, const std::vector<Value>& row) { values = row; });
  REQUIRE(values.size() == 10);
  CHECK(values[0] == Value{std::int64_t{9000000000}});
  CHECK(values[1] == Value{std::int64_t{7}});
  CHECK(values[2] == Value{true});
  CHECK(values[3] == Value{parse_utc("2026-06-15T10:00:00.250Z")});
  CHECK(values[4] == Value{parse_utc("2026-06-15T12:00:00Z")}); // without a zone: read as UTC
  CHECK(values[5] == Value{parse_utc("2026-06-15T00:00:00Z")});
  CHECK(values[6] == Value{0.5});
  CHECK(values[7] == Value{std::string("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")});
  CHECK(values[8] == Value{Blob{std::string("\x00\xff"
                                            "A",
                                            3)}});
  CHECK(values[9] == Value{std::string("hé")});
  // And bound back as they were read.
  CHECK(store->count(RowSet{"t", {KeyIn{"at", {values[3]}}, KeyIn{"data", {values[8]}}, IsTrue{"flag"}}}) == 1);
}

TEST_CASE("postgres: a timestamp column holds wall-clock times, read in the task's time_zone", "[store][postgres]")
{
  HOUSEKEEP_PG_DB(db);
  db.exec("CREATE TABLE w (id BIGINT PRIMARY KEY, plain TIMESTAMP, zoned TIMESTAMPTZ, day DATE, note TEXT)");
  // Every 20 minutes from 22 to 27 October 2026 as Berlin's wall clock shows it, through the
  // night its clocks go back (02:00-03:00 on the 25th happens twice).
  db.exec("INSERT INTO w SELECT n, (timestamptz '2026-10-22 00:00:00+00' + n * interval '20 minutes') AT TIME ZONE "
          "'Europe/Berlin', timestamptz '2026-10-22 00:00:00+00' + n * interval '20 minutes', DATE '2026-10-22' + n "
          "/ 72, 'x' FROM generate_series(0, 360) AS n");
  auto store = db.open();
  CHECK(store->column_time("w", "plain") == ColumnTime::wall_clock);
  CHECK(store->column_time("w", "zoned") == ColumnTime::instant);
  CHECK(store->column_time("w", "day") == ColumnTime::date);
  CHECK(store->column_time("w", "note") == ColumnTime::undeclared);

  const TimeSettings berlin{TimeFormat::auto_detect, find_zone("Europe/Berlin")};
  const TimePoint now = parse_utc("2026-10-28T00:00:00Z");
  const auto encoding = detect_time_encoding(*store, "w", "plain", berlin, now, "tasks.test");
  REQUIRE(encoding);
  // Cutoffs around the fold: the rows before each by the server's reading of the wall clock,
  // which takes a repeated time as its later instant (PostgreSQL's documented choice).
  for (const char* cutoff : {"2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z",
                             "2026-10-25T01:30:00Z", "2026-10-25T02:00:00Z", "2026-10-26T09:10:00Z"}) {
    INFO(cutoff);
    const TimePoint instant = parse_utc(cutoff);
    CHECK(store->count(RowSet{"w", {Before{"plain", encoding->encode(instant)}}}) ==
          db.integer(fmt::format("SELECT count(*) FROM w WHERE (plain AT TIME ZONE 'Europe/Berlin') < '{}'", cutoff)));
  }
  // Away from the fold, exactly the rows before the instant.
  CHECK(store->count(RowSet{"w", {Before{"plain", encoding->encode(parse_utc("2026-10-26T09:10:00Z"))}}}) ==
        db.integer("SELECT count(*) FROM w WHERE zoned < '2026-10-26 09:10:00+00'"));
  // A timestamptz holds instants: a zone is refused, with the column named.
  try {
    detect_time_encoding(*store, "w", "zoned", berlin, now, "tasks.test");
    FAIL("a zone for a timestamptz column was accepted");
  } catch (const DataError& e) {
    CHECK(std::string(e.what()) == "tasks.test: column 'w.zoned' has a type with a zone: its values are instants, so "
                                   "time_zone = \"Europe/Berlin\" does not apply");
  }
}

TEST_CASE("postgres: a server it cannot use is 69, 66 or 64, and the password never shows", "[store][postgres]")
{
  HOUSEKEEP_PG_DB(db);
  const std::string host = std::getenv("HOUSEKEEP_TEST_PG_HOST");
  const std::string port = std::getenv("HOUSEKEEP_TEST_PG_PORT");
  try {
    open_store(parse_database_url(fmt::format("postgresql://postgres:s3cret@/no_such_db?host={}&port={}", host, port)),
               OpenOptions{});
    FAIL("opened a missing database");
  } catch (const NotFoundError& e) {
    CHECK_THAT(e.what(), Catch::Contains("no_such_db"));
    CHECK_THAT(e.what(), !Catch::Contains("s3cret"));
    CHECK_THAT(e.what(), Catch::Contains("postgres:****@"));
  }
  CHECK_THROWS_AS(open_store(parse_database_url("postgresql://postgres:s3cret@127.0.0.1:1/x"), OpenOptions{}),
                  UnavailableError);
  CHECK_THROWS_AS(
    open_store(parse_database_url(fmt::format("postgresql://postgres@/x?host={}&port={}&bogus=1", host, port)),
               OpenOptions{}),
    UsageError);
}

TEST_CASE("postgres: a connection the server ends is lost: 75 (temporary), and the store says so", "[store][postgres]")
{
  HOUSEKEEP_PG_DB(db);
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY)");
  auto store = db.open();
  CHECK_FALSE(store->connection_lost());
  CHECK(db.integer("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = "
                   "'housekeep' AND datname = current_database()") >= 1);
  CHECK_THROWS_AS(store->count(RowSet{"t", {}}), TempFailError);
  CHECK(store->connection_lost());
  CHECK(db.open()->count(RowSet{"t", {}}) == 0); // a new connection works
}

TEST_CASE("postgres: a lease its holder stopped renewing is taken over, and named", "[store][postgres]")
{
  HOUSEKEEP_PG_DB(db);
  auto store = db.open();
  {
    LockAttempt first = store->try_lock(LockHolder{77, "gone-host", "run --task all", "x"}, LockScope::purge);
    REQUIRE(first.lock);
    CHECK_FALSE(first.stale);
    // Its holder died: nothing renews the lease, which the clock runs out.
    db.exec("UPDATE housekeep_locks SET lease_until = now() - interval '1 second'");
    CHECK_FALSE(db.open()->lock_holder(LockScope::purge).has_value());
    LockAttempt next = db.open()->try_lock(LockHolder{78, "here", "run", "y"}, LockScope::purge);
    REQUIRE(next.lock);
    REQUIRE(next.stale);
    CHECK(next.stale->pid == 77);
    CHECK(next.stale->host == "gone-host");
    CHECK(db.integer("SELECT pid FROM housekeep_locks WHERE scope = 'purge'") == 78);
    CHECK(db.integer("SELECT count(*) FROM housekeep_locks WHERE lease_until > now() + interval '30 seconds'") == 1);
  }
  CHECK(db.integer("SELECT count(*) FROM housekeep_locks") == 0); // released, whoever's it was last
}
