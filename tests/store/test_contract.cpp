// The store contract: what every backend's Store does, checked against the database's own
// answer to plain SQL run through another connection. Each test case runs once per backend
// of backends.hpp.
#include "housekeep/error.hpp"
#include "housekeep/history.hpp"
#include "housekeep/store.hpp"

#include "store/backends.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>

using namespace housekeep;

namespace {

Value integer(std::int64_t n)
{
  return Value{n};
}

// p: parents with a flag and a time; c: children, some orphaned, referencing p by id.
template <typename Db>
void parents_and_children(Db& db)
{
  db.exec(fmt::format("CREATE TABLE p (id INTEGER PRIMARY KEY, flag {0}, at INTEGER, seen {1})", Db::boolean_type,
                      Db::time_type));
  db.exec("CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER)");
  db.exec(fmt::format("INSERT INTO p VALUES (1, {0}, 10, '2026-06-01T00:00:00.000Z'), (2, {1}, 20, NULL), "
                      "(3, {0}, 30, '2026-06-10T00:00:00.000Z'), (4, {1}, 40, '2026-06-14T00:00:00.000Z')",
                      Db::boolean(false), Db::boolean(true)));
  db.exec("INSERT INTO c VALUES (1, 1), (2, 1), (3, 2), (4, NULL), (5, 99), (6, 3)");
}

} // namespace

TEMPLATE_TEST_CASE("contract: row sets count, walk and delete the rows plain SQL names", "[store][contract]",
                   HOUSEKEEP_STORE_BACKENDS)
{
  HOUSEKEEP_CONTRACT_DB(db);
  parents_and_children(db);
  auto store = db.open();

  CHECK(store->count(RowSet{"p", {}}) == db.integer("SELECT count(*) FROM p"));
  CHECK(store->count(RowSet{"p", {IsFalse{"flag"}}}) ==
        db.integer(fmt::format("SELECT count(*) FROM p WHERE flag = {}", TestType::boolean(false))));
  CHECK(store->count(RowSet{"p", {IsTrue{"flag"}}}) ==
        db.integer(fmt::format("SELECT count(*) FROM p WHERE flag = {}", TestType::boolean(true))));
  CHECK(store->count(RowSet{"p", {Before{"at", integer(30)}}}) == db.integer("SELECT count(*) FROM p WHERE at < 30"));
  CHECK(store->count(RowSet{"p", {AtOrAfter{"at", integer(30)}}}) ==
        db.integer("SELECT count(*) FROM p WHERE at >= 30"));
  CHECK(store->count(RowSet{"c", {Orphan{"p_id", "p", "id"}}}) ==
        db.integer("SELECT count(*) FROM c WHERE p_id IS NULL OR p_id NOT IN (SELECT id FROM p)"));
  // Bound as the engine's own types: a timestamp, a boolean.
  CHECK(store->count(RowSet{"p", {Before{"seen", Value{parse_utc("2026-06-12T00:00:00Z")}}}}) == 2);
  CHECK(store->count(RowSet{"p", {KeyIn{"flag", {Value{true}}}}}) == 2);

  auto old_unflagged = std::make_shared<RowSet>(RowSet{"p", {IsFalse{"flag"}, Before{"at", integer(25)}}});
  const RowSet children{"c", {ChildOf{"p_id", old_unflagged, "id"}}};
  CHECK(store->count(children) == 2);
  CHECK(store->count(RowSet{"c", {ChildOf{"p_id", old_unflagged, "id", true}}}) == 2);
  CHECK(store->count(RowSet{"c", {NotAmong{"id", std::make_shared<RowSet>(children)}}}) == 4);
  CHECK(store->count(RowSet{"p", {ReferencedBy{"id", std::make_shared<RowSet>(RowSet{"c", {}}), "p_id"}}}) ==
        db.integer("SELECT count(*) FROM p WHERE id IN (SELECT p_id FROM c WHERE p_id IS NOT NULL)"));

  const KeySpan span = store->key_span(RowSet{"p", {IsTrue{"flag"}}}, "at");
  CHECK(span.rows == 2);
  CHECK(span.lowest == integer(20));
  CHECK(span.highest == integer(40));
  CHECK(store->key_span(RowSet{"p", {Before{"at", integer(0)}}}, "at").lowest == Value{});

  // A keyset walk by (at, id): the first three rows, then the rest after the third.
  const BatchEnd first = store->next_batch(RowSet{"p", {}}, {"at", "id"}, 3);
  CHECK(first.rows == 3);
  CHECK(first.last == std::vector<Value>{integer(db.integer("SELECT at FROM p ORDER BY at, id LIMIT 1 OFFSET 2")),
                                         integer(db.integer("SELECT id FROM p ORDER BY at, id LIMIT 1 OFFSET 2"))});
  const RowSet rest{"p", {Within{{"at", "id"}, first.last, {}}}};
  CHECK(store->count(rest) == db.integer("SELECT count(*) FROM p") - 3);
  CHECK(store->next_batch(rest, {"at", "id"}, 100).rows == store->count(rest));
  CHECK(store->count(RowSet{"p", {Within{{"at", "id"}, {}, first.last}}}) == 3);
  CHECK(store->next_batch(RowSet{"p", {Before{"at", integer(0)}}}, {"id"}, 5).last.empty());
  CHECK(store->read_ordered(RowSet{"c", {}}, {"id"}, 2) == std::vector<std::vector<Value>>{{integer(1)}, {integer(2)}});
  // A fence: the limit-th row when there are that many, else the set's last (rows 0).
  const BatchEnd fence = store->fence(RowSet{"p", {}}, {"at", "id"}, 3);
  CHECK(fence.rows == 3);
  CHECK(fence.last == first.last);
  const BatchEnd short_of = store->fence(rest, {"at", "id"}, 1000);
  CHECK(short_of.rows == 0);
  CHECK(short_of.last == std::vector<Value>{integer(db.integer("SELECT at FROM p ORDER BY at DESC, id DESC LIMIT 1")),
                                            integer(db.integer("SELECT id FROM p ORDER BY at DESC, id DESC LIMIT 1"))});
  CHECK(store->fence(RowSet{"p", {Before{"at", integer(0)}}}, {"id"}, 5).last.empty());

  std::vector<std::string> seen_columns;
  std::int64_t rows = 0;
  store->read_rows(RowSet{"c", {Orphan{"p_id", "p", "id"}}},
                   [&](const std::vector<std::string>& columns, const std::vector<Value>&) {
                     seen_columns = columns;
                     ++rows;
                   });
  CHECK(seen_columns == std::vector<std::string>{"id", "p_id"});
  CHECK(rows == 2);

  CHECK(store->erase(RowSet{"c", {KeyIn{"id", {integer(4), integer(5)}}}}) == 2);
  CHECK(db.ids("SELECT id FROM c") == std::set<std::int64_t>{1, 2, 3, 6});
  CHECK(store->erase(RowSet{"c", {KeyIn{"id", {}}}}) == 0);

  CHECK(store->columns("p") == std::vector<std::string>{"id", "flag", "at", "seen"});
  CHECK_FALSE(store->columns("nope").has_value());
  CHECK(store->sample("p", "at", 2, false) == std::vector<Value>{integer(10), integer(20)});
  CHECK(store->sample("p", "at", 1, true) == std::vector<Value>{integer(40)});
}

TEMPLATE_TEST_CASE("contract: a write transaction commits, or rolls back when dropped", "[store][contract]",
                   HOUSEKEEP_STORE_BACKENDS)
{
  HOUSEKEEP_CONTRACT_DB(db);
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY)");
  db.exec("INSERT INTO t VALUES (1), (2), (3)");
  auto store = db.open();
  {
    auto transaction = store->begin_write();
    CHECK(store->erase(RowSet{"t", {}}) == 3);
  }
  CHECK(db.integer("SELECT count(*) FROM t") == 3);
  {
    auto transaction = store->begin_write();
    store->erase(RowSet{"t", {KeyIn{"id", {integer(1)}}}});
    transaction->commit();
  }
  CHECK(db.ids("SELECT id FROM t") == std::set<std::int64_t>{2, 3});
}

TEMPLATE_TEST_CASE("contract: foreign keys are described and enforced", "[store][contract]", HOUSEKEEP_STORE_BACKENDS)
{
  HOUSEKEEP_CONTRACT_DB(db);
  db.exec("CREATE TABLE parent (id INTEGER PRIMARY KEY, code INTEGER UNIQUE)");
  db.exec("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent, parent_code INTEGER "
          "REFERENCES parent (code))");
  db.exec("INSERT INTO parent VALUES (1, 100), (2, 200)");
  db.exec("INSERT INTO child VALUES (1, 1, 200)");
  auto store = db.open();
  auto refs = references_to(*store, "parent");
  std::sort(refs.begin(), refs.end(), [](const auto& a, const auto& b) { return a.column < b.column; });
  REQUIRE(refs.size() == 2);
  CHECK(refs[0].child_table == "child");
  CHECK(refs[0].column == "parent_code");
  CHECK(refs[0].parent_column == "code");
  CHECK(refs[1].column == "parent_id");
  CHECK(refs[1].parent_column == "id"); // declared without a column: the primary key
  CHECK(references_to(*store, "child").empty());
  CHECK(refs[0].width == 1);

  // Deleting a referenced row is refused, and says what to do; nothing went.
  {
    auto transaction = store->begin_write();
    CHECK_THROWS_AS(store->erase(RowSet{"parent", {KeyIn{"id", {integer(1)}}}}), TaskError);
  }
  CHECK(db.integer("SELECT count(*) FROM parent") == 2);

  // Rows put back only where their key is missing; a row naming no parent breaks a key.
  {
    auto transaction = store->begin_write();
    CHECK(store->insert_missing("parent", "id", {"id", "code"},
                                {{integer(2), integer(200)}, {integer(3), integer(300)}}) == 1);
    transaction->commit();
  }
  CHECK(db.ids("SELECT id FROM parent") == std::set<std::int64_t>{1, 2, 3});
  {
    auto transaction = store->begin_write();
    CHECK_THROWS_AS(
      store->insert_missing("child", "id", {"id", "parent_id", "parent_code"}, {{integer(2), integer(9), Value{}}}),
      DataError);
  }
  CHECK(db.integer("SELECT count(*) FROM child") == 1);
}

TEMPLATE_TEST_CASE("contract: a foreign key of several columns is described with its width", "[store][contract]",
                   HOUSEKEEP_STORE_BACKENDS)
{
  HOUSEKEEP_CONTRACT_DB(db);
  db.exec("CREATE TABLE pair (a INTEGER, b INTEGER, PRIMARY KEY (a, b))");
  db.exec("CREATE TABLE ref (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, FOREIGN KEY (a, b) REFERENCES pair (a, b))");
  auto store = db.open();
  auto refs = references_to(*store, "pair");
  std::sort(refs.begin(), refs.end(), [](const auto& x, const auto& y) { return x.column < y.column; });
  REQUIRE(refs.size() == 2);
  CHECK(refs[0].column == "a");
  CHECK(refs[0].parent_column == "a");
  CHECK(refs[1].column == "b");
  CHECK(refs[1].parent_column == "b");
  CHECK(refs[0].width == 2);
  CHECK(refs[1].width == 2);
}

TEMPLATE_TEST_CASE("contract: the locks are exclusive, name their holder and are released", "[store][contract]",
                   HOUSEKEEP_STORE_BACKENDS)
{
  HOUSEKEEP_CONTRACT_DB(db);
  db.exec("CREATE TABLE t (id INTEGER)");
  auto first = db.open();
  auto second = db.open();
  for (const LockScope scope : {LockScope::purge}) {
    CHECK_FALSE(second->lock_holder(scope).has_value());
    LockAttempt held = first->try_lock(LockHolder{4242, "host-a", "run --task all", "2026-06-15T12:00:00.000Z"}, scope);
    REQUIRE(held.lock);
    LockAttempt refused = second->try_lock(LockHolder{1, "host-b", "run --task stats", "x"}, scope);
    CHECK_FALSE(refused.lock);
    REQUIRE(refused.holder);
    CHECK(refused.holder->pid == 4242);
    CHECK(refused.holder->host == "host-a");
    CHECK(refused.holder->what == "run --task all");
    REQUIRE(second->lock_holder(scope).has_value());
    CHECK(second->lock_holder(scope)->pid == 4242);
    held.lock.reset();
    CHECK_FALSE(second->lock_holder(scope).has_value());
    CHECK(second->try_lock(LockHolder{1, "host-b", "run", "x"}, scope).lock);
  }
}

TEMPLATE_TEST_CASE("contract: history records, lists, updates and prunes runs, and jobs", "[store][contract]",
                   HOUSEKEEP_STORE_BACKENDS)
{
  HOUSEKEEP_CONTRACT_DB(db);
  db.exec("CREATE TABLE t (id INTEGER)");
  auto store = db.open();
  History& history = store->history();
  CHECK(history.runs(RunQuery{}).empty()); // no table yet: no error
  CHECK(history.job_states().empty());
  CHECK(history.replicas().empty());
  CHECK(history.claims("", 10).empty());
  CHECK(history.prune_runs(test::test_now()) == 0);
  CHECK_FALSE(db.table_exists("housekeep_runs")); // reading created nothing

  const TimePoint now = test::test_now();
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 3; ++i) {
    RunRecord run;
    run.job = i == 2 ? "nightly" : "";
    run.task = i == 1 ? "stats" : "conversations";
    run.started_at = now + std::chrono::minutes(i);
    run.finished_at = run.started_at + std::chrono::seconds(1);
    run.status = i == 2 ? RunStatus::running : RunStatus::ok;
    run.deleted = {{"messages", 10 * i}};
    run.kept = {KeptRows{"users", "django_admin_log.user_id", "", 3}};
    run.host = "h";
    run.pid = 7;
    run.dry_run = i == 1;
    if (i == 1) {
      run.trigger = "manual:20260615T020000Z-0000abcd";
      run.stats = {{"total_users", 40}, {"active_users", 33}, {"a_last", 0}}; // kept in this order
    }
    ids.push_back(history.record_run(run));
  }
  CHECK(db.integer("SELECT count(*) FROM housekeep_runs") == 3);
  CHECK(std::set<std::int64_t>(ids.begin(), ids.end()).size() == 3);
  CHECK(db.integer(fmt::format("SELECT count(*) FROM housekeep_runs WHERE id = {} AND status = 'running'", ids[2])) ==
        1);

  // A run recorded as running is replaced, under its id, when it ends.
  RunRecord ended = history.runs(RunQuery{.limit = 1, .task = "", .job = "nightly"}).at(0);
  CHECK(ended.id == ids[2]);
  CHECK(ended.status == RunStatus::running);
  ended.status = RunStatus::failed;
  ended.error = "it broke";
  CHECK(history.record_run(ended) == ids[2]);

  const auto all = history.runs(RunQuery{.limit = 10, .task = "", .job = ""});
  REQUIRE(all.size() == 3);
  CHECK(all[0].started_at == now + std::chrono::minutes(2));
  CHECK(all[0].status == RunStatus::failed);
  CHECK(all[0].error == "it broke");
  CHECK(all[0].deleted.at("messages") == 20);
  CHECK(all[0].kept == std::vector<KeptRows>{KeptRows{"users", "django_admin_log.user_id", "", 3}});
  CHECK(all[1].dry_run);
  CHECK(all[1].trigger == "manual:20260615T020000Z-0000abcd");
  CHECK(all[1].stats ==
        std::vector<std::pair<std::string, std::int64_t>>{{"total_users", 40}, {"active_users", 33}, {"a_last", 0}});
  CHECK(all[2].trigger.empty());
  CHECK(all[2].stats.empty());
  CHECK(db.integer("SELECT count(*) FROM housekeep_runs WHERE trigger IS NULL AND stats IS NULL") == 2);
  CHECK(history.runs(RunQuery{.limit = 10, .task = "stats", .job = ""}).size() == 1);
  CHECK(history.runs(RunQuery{.limit = 10, .task = "", .job = "", .status = RunStatus::failed}).size() == 1);
  CHECK(history.runs(RunQuery{.limit = 1, .task = "", .job = ""}).size() == 1);
  CHECK(history.prune_runs(now + std::chrono::seconds(90)) == 2);
  CHECK(db.integer("SELECT count(*) FROM housekeep_runs") == 1);

  JobState state;
  state.job = "nightly";
  state.schedule = "0 2 * * *";
  state.timezone = "UTC";
  state.next_fire = now;
  state.last_status = "ok";
  state.updated_at = now;
  history.save_job_state(state);
  state.missed = 2;
  state.last_missed = now - std::chrono::hours(24);
  history.save_job_state(state); // replaces, never adds
  CHECK(db.integer("SELECT count(*) FROM housekeep_jobs") == 1);
  const auto states = history.job_states();
  REQUIRE(states.size() == 1);
  CHECK(states[0].next_fire == now);
  CHECK_FALSE(states[0].last_fire.has_value());
  CHECK(states[0].missed == 2);
  CHECK(states[0].last_missed == now - std::chrono::hours(24));
}

TEMPLATE_TEST_CASE("contract: daemons' heartbeats, live by the database's clock, and pruned", "[store][contract]",
                   HOUSEKEEP_STORE_BACKENDS)
{
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  HOUSEKEEP_CONTRACT_DB(db);
  auto store = db.open();
  History& history = store->history();
  const TimePoint now = test::test_now();
  history.save_replica(Replica{"a/1/x", 1, "host-a", now, now, "waiting", false, {}}, seconds(60));
  history.save_replica(Replica{"a/1/x", 1, "host-a", now, now + seconds(5), "running nightly", false, {}}, seconds(60));
  history.save_replica(Replica{"b/2/y", 2, "host-b", now, now, "waiting", false, {}}, seconds(60));
  CHECK(db.integer("SELECT count(*) FROM housekeep_replicas") == 2); // one row per daemon
  auto replicas = history.replicas();
  REQUIRE(replicas.size() == 2);
  const auto a = std::find_if(replicas.begin(), replicas.end(), [](const Replica& r) { return r.pid == 1; });
  REQUIRE(a != replicas.end());
  CHECK(a->status == "running nightly");
  CHECK(a->heartbeat_at == now + seconds(5));
  CHECK(a->live);
  CHECK(a->age < seconds(30));
  // A heartbeat whose lease ran out (by the database's clock) is not live; pruning takes the
  // rows named, and those dead for a week.
  db.exec("UPDATE housekeep_replicas SET lease_until = lease_until - 120000, seen_ms = seen_ms - 120000");
  replicas = history.replicas();
  CHECK(std::none_of(replicas.begin(), replicas.end(), [](const Replica& r) { return r.live; }));
  CHECK(replicas.at(0).age >= seconds(119));
  CHECK(history.prune_replicas({"a/1/x"}) == 1);
  CHECK(history.replicas().size() == 1);
  CHECK(history.prune_replicas({}) == 0);
  db.exec("UPDATE housekeep_replicas SET lease_until = lease_until - 700000000, seen_ms = seen_ms - 700000000");
  CHECK(history.prune_replicas({}) == 1); // a week dead
}

TEMPLATE_TEST_CASE("contract: a slot is claimed once, taken over only when its lease ran out, never beside its job's "
                   "running slot",
                   "[store][contract]", HOUSEKEEP_STORE_BACKENDS)
{
  using std::chrono::seconds;
  HOUSEKEEP_CONTRACT_DB(db);
  auto first = db.open();
  auto second = db.open();
  const SlotClaim a{"nightly", "2026-06-15T02:00:00.000Z", "host-a/1/x", "host-a", 1};
  SlotClaim b = a;
  b.holder = "host-b/2/y";
  b.host = "host-b";
  b.pid = 2;

  ClaimAttempt won = first->history().claim_slot(a, seconds(60));
  CHECK(won.won);
  CHECK_FALSE(won.other);
  ClaimAttempt lost = second->history().claim_slot(b, seconds(60));
  CHECK_FALSE(lost.won);
  CHECK_FALSE(lost.overlaps);
  REQUIRE(lost.other);
  CHECK(lost.other->holder == a.holder);
  CHECK(lost.other->pid == 1);
  CHECK(lost.other->live);
  CHECK(lost.other->lease_left > seconds(50));
  CHECK(lost.other->lease_left <= seconds(60));
  CHECK_FALSE(first->history().claim_slot(a, seconds(60)).won); // not even its holder twice

  // Another slot of the same job waits while this one runs; another job's does not.
  SlotClaim next_slot = b;
  next_slot.slot = "2026-06-16T02:00:00.000Z";
  ClaimAttempt overlap = second->history().claim_slot(next_slot, seconds(60));
  CHECK_FALSE(overlap.won);
  CHECK(overlap.overlaps);
  REQUIRE(overlap.blocker); // what holds the job
  CHECK(overlap.blocker->slot == a.slot);
  CHECK(overlap.blocker->holder == a.holder);
  // A slot skipped for it is recorded missed once, by whoever records it first, and is then
  // never claimed to run.
  SlotClaim skipped = b;
  skipped.slot = "2026-06-15T02:00:30.000Z";
  CHECK(second->history().claim_missed_slot(skipped));
  CHECK_FALSE(first->history().claim_missed_slot(skipped));
  CHECK_FALSE(first->history().claim_missed_slot(a)); // nor a slot claimed to run
  CHECK(db.integer("SELECT count(*) FROM housekeep_claims WHERE status = 'missed' AND finished_ms IS NOT NULL") == 1);
  CHECK_FALSE(first->history().claim_slot(skipped, seconds(60)).won);
  db.exec("DELETE FROM housekeep_claims WHERE status = 'missed'");
  SlotClaim other_job = b;
  other_job.job = "hourly";
  CHECK(second->history().claim_slot(other_job, seconds(60)).won);

  // Renewed by its holder only.
  CHECK(first->history().renew_claim(a, seconds(60)));
  CHECK_FALSE(second->history().renew_claim(b, seconds(60)));

  // Its lease run out (as if its holder died a minute ago): taken over, once.
  db.exec("UPDATE housekeep_claims SET lease_until = lease_until - 120000 WHERE job = 'nightly'");
  ClaimAttempt took = second->history().claim_slot(b, seconds(60));
  CHECK(took.won);
  REQUIRE(took.other);
  CHECK(took.other->holder == a.holder);
  CHECK_FALSE(first->history().claim_slot(a, seconds(60)).won);
  CHECK_FALSE(first->history().renew_claim(a, seconds(60))); // the old holder learns it lost it
  first->history().finish_claim(a, "ok");                    // and cannot finish it
  CHECK(db.integer("SELECT count(*) FROM housekeep_claims WHERE finished_ms IS NOT NULL") == 0);

  // Finished, it is never claimed again, even with its lease long run out.
  second->history().finish_claim(b, "ok");
  db.exec("UPDATE housekeep_claims SET lease_until = lease_until - 120000");
  CHECK_FALSE(first->history().claim_slot(a, seconds(60)).won);
  const auto claims = first->history().claims("nightly", 10);
  REQUIRE(claims.size() == 1);
  CHECK(claims[0].holder == b.holder);
  CHECK(claims[0].status == "ok");
  CHECK(claims[0].finished);
  CHECK_FALSE(claims[0].live);
  CHECK(claims[0].takeovers == 1);
  // The job's next slot may run now that nothing of it is running.
  CHECK(second->history().claim_slot(next_slot, seconds(60)).won);
  CHECK(db.integer("SELECT count(*) FROM housekeep_claims") == 3);
}

TEMPLATE_TEST_CASE("contract: a read-only store reads and never writes", "[store][contract]", HOUSEKEEP_STORE_BACKENDS)
{
  HOUSEKEEP_CONTRACT_DB(db);
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY)");
  db.exec("INSERT INTO t VALUES (1)");
  auto store = db.open(AccessMode::read_only);
  CHECK(store->read_only());
  CHECK(store->count(RowSet{"t", {}}) == 1);
  CHECK_THROWS_AS(store->begin_write(), PermissionError);
  CHECK_THROWS(store->history().save_replica(
    Replica{"h/1/x", 1, "h", test::test_now(), test::test_now(), "x", false, {}}, std::chrono::seconds(60)));
  CHECK_FALSE(db.table_exists("housekeep_replicas"));
  CHECK(db.integer("SELECT count(*) FROM t") == 1);
  CHECK_FALSE(db.open()->read_only());
}
