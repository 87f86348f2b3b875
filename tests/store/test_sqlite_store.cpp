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

TEST_CASE("row sets become the rows an independent query names", "[store]")
{
  TempDir dir;
  const std::string path = dir.file("t.db");
  Sql sql(path);
  sql.exec("CREATE TABLE p (id INTEGER PRIMARY KEY, flag INTEGER, at INTEGER);"
           "CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER);"
           "INSERT INTO p VALUES (1, 0, 10), (2, 1, 20), (3, 0, 30), (4, 1, 40);"
           "INSERT INTO c VALUES (1, 1), (2, 1), (3, 2), (4, NULL), (5, 99), (6, 3);");
  auto store = open_path(path);

  CHECK(store->count(RowSet{"p", {}}) == 4);
  CHECK(store->count(RowSet{"p", {IsFalse{"flag"}}}) == 2);
  CHECK(store->count(RowSet{"p", {IsTrue{"flag"}}}) == 2);
  CHECK(store->count(RowSet{"p", {Before{"at", Value{std::int64_t{30}}}}}) == 2);
  CHECK(store->count(RowSet{"p", {AtOrAfter{"at", Value{std::int64_t{30}}}}}) == 2);
  CHECK(store->count(RowSet{"c", {Orphan{"p_id", "p", "id"}}}) ==
        sql.integer("SELECT count(*) FROM c WHERE p_id IS NULL OR p_id NOT IN (SELECT id FROM p)"));

  auto old_unflagged = std::make_shared<RowSet>(RowSet{"p", {IsFalse{"flag"}, Before{"at", Value{std::int64_t{25}}}}});
  const RowSet children{"c", {ChildOf{"p_id", old_unflagged, "id"}}};
  CHECK(store->count(children) == 2);
  const RowSet not_among{"c", {NotAmong{"id", std::make_shared<RowSet>(children)}}};
  CHECK(store->count(not_among) == 4);

  const BatchEnd flagged = store->next_batch(RowSet{"p", {IsTrue{"flag"}}}, {"id"}, 10);
  CHECK(flagged.rows == 2);
  CHECK(flagged.last == std::vector<Value>{Value{sql.integer("SELECT max(id) FROM p WHERE flag <> 0")}});
  // A keyset walk by (at, id): the first three rows, then the rest after the third.
  const BatchEnd first = store->next_batch(RowSet{"p", {}}, {"at", "id"}, 3);
  CHECK(first.rows == 3);
  CHECK(first.last == std::vector<Value>{Value{sql.integer("SELECT at FROM p ORDER BY at, id LIMIT 1 OFFSET 2")},
                                         Value{sql.integer("SELECT id FROM p ORDER BY at, id LIMIT 1 OFFSET 2")}});
  const RowSet rest{"p", {Within{{"at", "id"}, first.last, {}}}};
  CHECK(store->count(rest) == sql.integer("SELECT count(*) FROM p") - 3);
  CHECK(store->next_batch(rest, {"at", "id"}, 100).rows == store->count(rest));
  CHECK(store->count(RowSet{"p", {Within{{"at", "id"}, {}, first.last}}}) == 3);
  CHECK(store->next_batch(RowSet{"p", {Before{"at", Value{std::int64_t{0}}}}}, {"id"}, 5).last.empty());
  CHECK(store->erase(RowSet{"c", {KeyIn{"id", {Value{std::int64_t{4}}, Value{std::int64_t{5}}}}}}) == 2);
  CHECK(sql.ids("SELECT id FROM c") == std::set<std::int64_t>{1, 2, 3, 6});
  CHECK(store->erase(RowSet{"c", {KeyIn{"id", {}}}}) == 0);

  CHECK(store->columns("p") == std::vector<std::string>{"id", "flag", "at"});
  CHECK_FALSE(store->columns("nope").has_value());

  const auto low = store->sample("p", "at", 2, false);
  const auto high = store->sample("p", "at", 1, true);
  CHECK(low == std::vector<Value>{Value{std::int64_t{10}}, Value{std::int64_t{20}}});
  CHECK(high == std::vector<Value>{Value{std::int64_t{40}}});
}

TEST_CASE("a transaction not committed is rolled back", "[store]")
{
  TempDir dir;
  const std::string path = dir.file("t.db");
  Sql sql(path);
  sql.exec("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1), (2), (3);");
  auto store = open_path(path);
  {
    auto transaction = store->begin_write();
    CHECK(store->erase(RowSet{"t", {}}) == 3);
  }
  CHECK(sql.integer("SELECT count(*) FROM t") == 3);
  {
    auto transaction = store->begin_write();
    store->erase(RowSet{"t", {KeyIn{"id", {Value{std::int64_t{1}}}}}});
    transaction->commit();
  }
  CHECK(sql.integer("SELECT count(*) FROM t") == 2);
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

TEST_CASE("foreign keys referencing a table are found", "[store]")
{
  TempDir dir;
  const std::string path = dir.file("t.db");
  Sql sql(path);
  test::create_classic_schema(sql);
  auto store = open_path(path);
  const auto refs = references_to(*store, "conversations");
  REQUIRE(refs.size() == 1);
  CHECK(refs[0].child_table == "messages");
  CHECK(refs[0].column == "conversation_id");
  CHECK(refs[0].parent_column == "id"); // declared without a column: the primary key
  CHECK(references_to(*store, "messages").empty());
}

TEST_CASE("the purge lock is exclusive / names its holder / and is released", "[store]")
{
  TempDir dir;
  const std::string path = dir.file("t.db");
  Sql sql(path);
  sql.exec("CREATE TABLE t (id INTEGER);");
  auto first = open_path(path);
  auto second = open_path(path);
  LockAttempt held =
    first->try_lock(LockHolder{4242, "host-a", "run --task all", "2026-06-15T12:00:00.000Z"}, LockScope::purge);
  REQUIRE(held.lock);
  LockAttempt refused = second->try_lock(LockHolder{1, "host-b", "run --task stats", "x"}, LockScope::purge);
  CHECK_FALSE(refused.lock);
  REQUIRE(refused.holder);
  CHECK(refused.holder->pid == 4242);
  CHECK(refused.holder->host == "host-a");
  CHECK(refused.holder->what == "run --task all");
  held.lock.reset();
  CHECK(second->try_lock(LockHolder{1, "host-b", "run", "x"}, LockScope::purge).lock);
}

TEST_CASE("history: recorded / listed newest first / filtered / pruned", "[store]")
{
  TempDir dir;
  const std::string path = dir.file("t.db");
  {
    Sql sql(path);
    sql.exec("CREATE TABLE t (id INTEGER);");
  }
  auto store = open_path(path);
  CHECK(store->history().runs(RunQuery{}).empty()); // no table yet: no error
  const TimePoint now = test::test_now();
  for (int i = 0; i < 3; ++i) {
    RunRecord run;
    run.task = i == 1 ? "stats" : "conversations";
    run.started_at = now + std::chrono::minutes(i);
    run.finished_at = run.started_at + std::chrono::seconds(1);
    run.status = "ok";
    run.deleted = {{"messages", 10 * i}};
    run.host = "h";
    run.pid = 7;
    store->history().record_run(run);
  }
  const auto all = store->history().runs(RunQuery{.limit = 10, .task = "", .job = ""});
  REQUIRE(all.size() == 3);
  CHECK(all[0].started_at == now + std::chrono::minutes(2));
  CHECK(all[0].deleted.at("messages") == 20);
  CHECK(store->history().runs(RunQuery{.limit = 10, .task = "stats", .job = ""}).size() == 1);
  CHECK(store->history().runs(RunQuery{.limit = 1, .task = "", .job = ""}).size() == 1);
  CHECK(store->history().prune_runs(now + std::chrono::seconds(90)) == 2);
  CHECK(store->history().runs(RunQuery{.limit = 10, .task = "", .job = ""}).size() == 1);
}

TEST_CASE("read-only mode never writes", "[store]")
{
  TempDir dir;
  const std::string path = dir.file("t.db");
  {
    Sql sql(path);
    sql.exec("CREATE TABLE t (id INTEGER); INSERT INTO t VALUES (1);");
  }
  const std::string before = test::file_bytes(path);
  auto store = open_path(path, AccessMode::read_only);
  CHECK(store->read_only());
  CHECK(store->count(RowSet{"t", {}}) == 1);
  CHECK_THROWS_AS(store->begin_write(), PermissionError);
  CHECK(test::file_bytes(path) == before);
  auto by_url = open_store(parse_database_url("sqlite://" + path + "?mode=ro"), OpenOptions{});
  CHECK(by_url->read_only());
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
