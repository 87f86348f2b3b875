// The keeper of a run's claim: where the engine tells other connections' commits apart
// (SQLite), the run's own connection renews the claim between batches, so that the renewals
// do not end the purge's quiet batches; elsewhere, or when batches stop coming, the keeper's
// own thread and connection do.
#include "daemon/claim_keeper.hpp"

#include "housekeep/clock.hpp"
#include "housekeep/store.hpp"
#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace housekeep;

namespace {

struct Renewals {
  bool others_committed = false; // the run's store saw another connection commit
  std::int64_t extended_ms = 0;  // how much later the lease ends than when claimed
  bool stopped = false;          // the run was asked to stop
};

// Claims a slot through the run's store for a lease of 1 s, then keeps it for 2 s with
// batches every 20 ms (or none), the run's store renewing it in line or not.
Renewals keep_claim(const std::string& path, const std::string& slot, bool in_line, bool batches)
{
  const auto open = [&path] { return open_store(parse_database_url(path), OpenOptions{}); };
  const auto run_store = open();
  const SlotClaim claim{"job-" + slot, slot, "here/1/x", "here", 1};
  REQUIRE(run_store->history().claim_slot(claim, std::chrono::milliseconds(1000)).won);
  test::Sql sql(path);
  const std::string until = "SELECT lease_until FROM housekeep_claims WHERE slot = '" + slot + "'";
  const std::int64_t first_until = sql.integer(until);
  const auto quiet_since = run_store->others_quiet_since();
  StopFlag stop;
  const SystemClock clock;
  const test::CapturedLog log{LogLevel::info};
  RunProgress progress(clock);
  {
    const ClaimKeeper keeper(open, claim, std::chrono::milliseconds(1000), stop, progress, log.logger(),
                             in_line ? std::function<Store*()>([&] { return run_store.get(); })
                                     : std::function<Store*()>());
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    for (int i = 0; std::chrono::steady_clock::now() < end; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (batches) {
        progress.advance("conversations", i, 100);
      }
    }
  }
  Renewals out;
  out.others_committed = run_store->others_quiet_since() != quiet_since;
  out.extended_ms = sql.integer(until) - first_until;
  out.stopped = stop.requested();
  return out;
}

} // namespace

TEST_CASE("claim keeper: on SQLite the run's own connection renews between batches, unseen as another writer",
          "[daemon][claim]")
{
  test::TempDir dir;
  const std::string path = dir.file("app.db");
  {
    test::Sql sql(path);
    sql.exec("CREATE TABLE t (id INTEGER)");
  }
  const Renewals in_line = keep_claim(path, "a", true, true);
  CHECK_FALSE(in_line.others_committed);
  CHECK(in_line.extended_ms >= 1000);
  CHECK_FALSE(in_line.stopped);

  // The keeper's own connection: each renewal is another connection's commit to the run.
  const Renewals apart = keep_claim(path, "b", false, true);
  CHECK(apart.others_committed);
  CHECK(apart.extended_ms >= 1000);
  CHECK_FALSE(apart.stopped);

  // No batch comes (a VACUUM, a pause): the keeper's thread steps in after half a lease.
  const Renewals no_batches = keep_claim(path, "c", true, false);
  CHECK(no_batches.others_committed);
  CHECK(no_batches.extended_ms >= 900);
  CHECK_FALSE(no_batches.stopped);
}
