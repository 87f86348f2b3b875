#include "housekeep/error.hpp"
#include "housekeep/history.hpp"
#include "housekeep/store.hpp"

#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace housekeep;
using test::Sql;
using test::TempDir;

namespace {

std::unique_ptr<Store> open_path(const std::string& path, AccessMode mode = AccessMode::read_write)
{
  return open_store(parse_database_url(path), OpenOptions{mode, std::chrono::milliseconds(200)});
}

} // namespace

TEST_CASE("opening: missing file / directory / not a database", "[store]")
{
  TempDir dir;
  CHECK_THROWS_AS(open_path(dir.file("missing.db")), NotFoundError);
  CHECK_THROWS_AS(open_path(dir.path()), DataError);
  std::ofstream(dir.file("text.db")) << "this is not a database, it is a text file of some length\n";
  CHECK_THROWS_AS(open_path(dir.file("text.db")), DataError);
  CHECK_FALSE(std::ifstream(dir.file("missing.db")).good()); // never created
}

TEST_CASE("a busy database is a temporary failure (75)", "[store]")
{
  TempDir dir;
  const std::string path = dir.file("t.db");
  Sql sql(path);
  sql.exec("CREATE TABLE t (id INTEGER PRIMARY KEY);");
  sql.exec("BEGIN IMMEDIATE");
  auto store = open_path(path);
  CHECK_THROWS_AS(store->begin_write(), TempFailError);
  sql.exec("ROLLBACK");
}

TEST_CASE("read-only by URL: ?mode=ro opens without writing", "[store]")
{
  TempDir dir;
  const std::string path = dir.file("t.db");
  {
    Sql sql(path);
    sql.exec("CREATE TABLE t (id INTEGER); INSERT INTO t VALUES (1);");
  }
  const std::string before = test::file_bytes(path);
  auto by_url = open_store(parse_database_url("sqlite://" + path + "?mode=ro"), OpenOptions{});
  CHECK(by_url->read_only());
  CHECK_THROWS_AS(by_url->begin_write(), PermissionError);
  CHECK(test::file_bytes(path) == before); // not a byte changed
}

TEST_CASE("traits: a writer under SQLite's busy handler retries after 1, 2, 5 ... then every 100 ms", "[store]")
{
  TempDir dir;
  const std::string path = dir.file("t.db");
  Sql(path).exec("CREATE TABLE t (id INTEGER PRIMARY KEY)");
  const StoreTraits traits = open_store(parse_database_url(path), OpenOptions{})->traits();
  REQUIRE(traits.writer_retry_gap != nullptr);
  using std::chrono::milliseconds;
  // Its sleeps (sqlite3.c, sqliteDefaultBusyCallback): 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50,
  // then 100; the gap is the sleep under way, plus a millisecond.
  CHECK(traits.writer_retry_gap(milliseconds(0)) == milliseconds(2));
  CHECK(traits.writer_retry_gap(milliseconds(3)) == milliseconds(6));
  CHECK(traits.writer_retry_gap(milliseconds(227)) == milliseconds(51));
  CHECK(traits.writer_retry_gap(milliseconds(228)) == milliseconds(101));
  CHECK(traits.writer_retry_gap(milliseconds(60000)) == milliseconds(101));
}

TEST_CASE("SQLite offers its maintenance: sizes, vacuum modes, checks", "[store]")
{
  TempDir dir;
  const std::string path = dir.file("t.db");
  Sql sql(path);
  sql.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);"
           "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
           "INSERT INTO t SELECT i, printf('%0500d', i) FROM n; DELETE FROM t WHERE id > 100;");
  auto store = open_path(path);
  Maintenance& engine = store->require_maintenance("vacuum");
  const std::int64_t before = engine.size_bytes();
  CHECK(before == sql.integer("SELECT page_count * page_size FROM pragma_page_count, pragma_page_size"));
  CHECK_FALSE(engine.vacuum("incremental", {})); // auto_vacuum is NONE
  CHECK(engine.vacuum("optimize", {}));
  CHECK(engine.vacuum("full", {}));
  CHECK(engine.size_bytes() < before / 4);
  CHECK(engine.quick_check("t") == "ok");
  engine.backup_to(dir.file("copy.db"), "");
  CHECK(engine.verify_backup(dir.file("copy.db"), "") == "integrity check ok");
  CHECK(Sql(dir.file("copy.db")).integer("SELECT count(*) FROM t") == 100);
  {
    std::ofstream(dir.file("bad.db")) << "not a database";
  }
  CHECK_THROWS_AS(engine.verify_backup(dir.file("bad.db"), ""), DataError);
  CHECK(sql.integer("SELECT count(*) FROM t") == 100);
}
