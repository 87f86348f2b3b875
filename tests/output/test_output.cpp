#include "housekeep/output.hpp"

#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

using namespace housekeep;

namespace {

RunReport sample_report()
{
  RunReport report;
  report.started_at = test::test_now();
  report.finished_at = test::test_now() + std::chrono::milliseconds(412);
  TaskResult conversations;
  conversations.task = "conversations";
  conversations.deleted = {{"messages", 12340}, {"conversations", 1234}};
  conversations.duration = std::chrono::milliseconds(398);
  TaskResult stats;
  stats.task = "stats";
  stats.stats = {{"total_users", 42}, {"active_users", 40}};
  report.tasks = {conversations, stats};
  return report;
}

} // namespace

TEST_CASE("run JSON follows SPEC §8 / tables in deletion order", "[output]")
{
  const auto json = run_report_json(sample_report());
  CHECK(json["ok"] == true);
  CHECK(json["dry_run"] == false);
  CHECK(json["started_at"] == "2026-06-15T12:00:00.000Z");
  CHECK(json["duration_ms"] == 412);
  CHECK(json["tasks"][0]["deleted"].dump() == R"({"messages":12340,"conversations":1234})");
  CHECK(json["tasks"][1]["stats"]["total_users"] == 42);
  CHECK_FALSE(json.contains("error"));
}

TEST_CASE("a failed task makes the document not ok and carries its error", "[output]")
{
  RunReport report = sample_report();
  report.tasks[0].status = TaskStatus::failed;
  report.tasks[0].code = ExitCode::data;
  report.tasks[0].error = "tasks.conversations: table 'x' does not exist";
  const auto json = run_report_json(report);
  CHECK(json["ok"] == false);
  CHECK(json["error"]["code"] == 65);
  CHECK(json["error"]["kind"] == "data");
  CHECK(json["tasks"][0]["status"] == "failed");
}

TEST_CASE("the run table aligns numbers with thousands separators", "[output]")
{
  const std::string table = run_report_table(sample_report());
  CHECK(table == "TASK           STATUS  TABLE          DELETED   TIME\n"
                 "conversations  ok      messages        12,340  398ms\n"
                 "                       conversations    1,234\n"
                 "stats          ok      total_users         42    0ms\n"
                 "                       active_users        40\n");
}

TEST_CASE("error JSON names code and kind", "[output]")
{
  const auto json = error_json(ExitCode::temp_fail, "busy", "");
  CHECK(json.dump() == R"({"ok":false,"error":{"code":75,"kind":"temporary","message":"busy"}})");
}
