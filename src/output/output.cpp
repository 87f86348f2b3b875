#include "housekeep/output.hpp"

#include "housekeep/duration.hpp"
#include "housekeep/text.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace housekeep {

namespace {

std::int64_t millis(std::chrono::milliseconds d)
{
  return static_cast<std::int64_t>(d.count());
}

nlohmann::ordered_json ordered_counts(const TableCounts& counts)
{
  auto out = nlohmann::ordered_json::object();
  for (const auto& [name, value] : counts) {
    out[name] = value;
  }
  return out;
}

} // namespace

nlohmann::ordered_json error_json(ExitCode code, const std::string& message, const std::string& hint)
{
  nlohmann::ordered_json error{
    {"code", static_cast<int>(code)}, {"kind", std::string(exit_code_kind(code))}, {"message", one_line(message)}};
  if (!hint.empty()) {
    error["hint"] = one_line(hint);
  }
  return nlohmann::ordered_json{{"ok", false}, {"error", error}};
}

// [{"table": "users", "referenced_by": "auth_user_groups.user_id", "rows": 3}, ...]; "through"
// names the descendant table referenced, when it is not the kept rows' own.
nlohmann::ordered_json kept_json(const std::vector<KeptRows>& kept)
{
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& k : kept) {
    nlohmann::ordered_json entry{{"table", k.table}, {"referenced_by", k.referenced_by}};
    if (!k.through.empty()) {
      entry["through"] = k.through;
    }
    entry["rows"] = k.rows;
    list.push_back(std::move(entry));
  }
  return list;
}

nlohmann::ordered_json run_report_json(const RunReport& report)
{
  nlohmann::ordered_json tasks = nlohmann::ordered_json::array();
  for (const auto& task : report.tasks) {
    nlohmann::ordered_json t{{"task", task.task},
                             {"status", std::string(task_status_name(task.status))},
                             {"duration_ms", millis(task.duration)}};
    if (!task.stats.empty()) {
      t["stats"] = ordered_counts(task.stats);
    } else {
      t["deleted"] = ordered_counts(task.deleted);
      t["kept"] = kept_json(task.kept);
      if (!task.dead_rows.empty()) {
        t["dead_rows"] = ordered_counts(task.dead_rows);
      }
      t["batches"] = task.batches;
      if (!report.dry_run) {
        t["slowest_batch_ms"] = millis(task.slowest_batch);
        t["lock_wait_ms"] = millis(task.lock_wait);
      }
    }
    if (!task.output.empty()) {
      t["output"] = task.output;
    }
    if (task.status == TaskStatus::skipped) {
      t["reason"] = task.reason;
    } else if (task.status != TaskStatus::ok) {
      t["error"] = error_json(task.code, task.error, task.hint)["error"];
    }
    tasks.push_back(std::move(t));
  }
  nlohmann::ordered_json doc{{"ok", report.ok()},
                             {"dry_run", report.dry_run},
                             {"started_at", format_utc(report.started_at)},
                             {"finished_at", format_utc(report.finished_at)},
                             {"duration_ms", millis(report.finished_at - report.started_at)},
                             {"tasks", std::move(tasks)}};
  if (!report.archives.empty()) {
    nlohmann::ordered_json archives = nlohmann::ordered_json::array();
    for (const auto& file : report.archives) {
      archives.push_back({{"path", file.path}, {"task", file.task}, {"table", file.table}, {"rows", file.rows}});
    }
    doc["archives"] = std::move(archives);
  }
  if (const TaskResult* failure = report.first_failure()) {
    doc["error"] = error_json(failure->code, failure->error, failure->hint)["error"];
  }
  return doc;
}

std::string format_columns(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right)
{
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (std::size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      const bool align_right = i < right.size() && right[i];
      const std::size_t pad = widths[i] - row[i].size();
      if (i > 0) {
        line += "  ";
      }
      if (align_right) {
        line += std::string(pad, ' ') + row[i];
      } else {
        line += row[i];
        if (i + 1 < row.size()) {
          line += std::string(pad, ' ');
        }
      }
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    out += line + '\n';
  }
  return out;
}

std::string run_report_table(const RunReport& report)
{
  std::vector<std::vector<std::string>> rows{
    {"TASK", "STATUS", "TABLE", report.dry_run ? "WOULD DELETE" : "DELETED", "TIME"}};
  for (const auto& task : report.tasks) {
    const std::string status(task_status_name(task.status));
    const std::string time = humanize_duration(task.duration);
    if (!task.stats.empty()) {
      for (std::size_t i = 0; i < task.stats.size(); ++i) {
        rows.push_back({i == 0 ? task.task : "", i == 0 ? status : "", task.stats[i].first,
                        with_thousands(task.stats[i].second), i == 0 ? time : ""});
      }
    } else if (task.deleted.empty()) {
      rows.push_back({task.task, status, "-", "-", time});
    } else {
      for (std::size_t i = 0; i < task.deleted.size(); ++i) {
        rows.push_back({i == 0 ? task.task : "", i == 0 ? status : "", task.deleted[i].first,
                        with_thousands(task.deleted[i].second), i == 0 ? time : ""});
      }
    }
  }
  std::string out = format_columns(rows, {false, false, false, true, true});
  if (report.dry_run) {
    out += "dry run: nothing was deleted\n";
  }
  for (const auto& file : report.archives) {
    out += fmt::format("archived {} rows of {} in {}\n", with_thousands(file.rows), file.table, file.path);
  }
  return out;
}

nlohmann::ordered_json history_json(const std::vector<RunRecord>& runs)
{
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& run : runs) {
    nlohmann::ordered_json r{
      {"id", run.id},
      {"job", run.job.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(run.job)},
      {"task", run.task},
      {"started_at", format_utc(run.started_at)},
      {"finished_at", format_utc(run.finished_at)},
      {"duration_ms", millis(run.finished_at - run.started_at)},
      {"status", run_status_name(run.status)},
      {"deleted", run.deleted},
      {"kept", kept_json(run.kept)},
      {"host", run.host},
      {"pid", run.pid},
      {"dry_run", run.dry_run}};
    r["error"] = run.error.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(run.error);
    r["trigger"] = run.trigger.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(run.trigger);
    if (!run.stats.empty()) {
      nlohmann::ordered_json stats = nlohmann::ordered_json::object();
      for (const auto& [name, value] : run.stats) {
        stats[name] = value;
      }
      r["stats"] = std::move(stats);
    }
    if (!run.output.empty()) {
      r["output"] = run.output;
    }
    list.push_back(std::move(r));
  }
  return nlohmann::ordered_json{{"ok", true}, {"runs", std::move(list)}};
}

std::string history_table(const std::vector<RunRecord>& runs)
{
  std::vector<std::vector<std::string>> rows{
    {"ID", "STARTED (UTC)", "JOB", "TASK", "STATUS", "DELETED", "TIME", "ERROR"}};
  for (const auto& run : runs) {
    std::int64_t total = 0;
    for (const auto& [table, count] : run.deleted) {
      total += count;
    }
    std::string started = format_utc(run.started_at);
    started = started.substr(0, 19);
    started[10] = ' ';
    rows.push_back({std::to_string(run.id), started, run.job.empty() ? "-" : run.job, run.task,
                    std::string(run_status_name(run.status)), with_thousands(total),
                    humanize_duration(run.finished_at - run.started_at), run.error});
  }
  return format_columns(rows, {true, false, false, false, false, true, true, false});
}

std::string restore_table(const RestoreReport& report)
{
  std::vector<std::vector<std::string>> rows{
    {"TABLE", "ROWS", report.dry_run ? "WOULD RESTORE" : "RESTORED", "ALREADY THERE", "ARCHIVE"}};
  for (const auto& done : report.files) {
    rows.push_back({done.file.table, with_thousands(done.file.rows), with_thousands(done.restored),
                    with_thousands(done.skipped), done.file.path});
  }
  std::string out = format_columns(rows, {false, true, true, true, false});
  if (report.dry_run) {
    out += "dry run: nothing was restored\n";
  }
  return out;
}

nlohmann::ordered_json restore_json(const RestoreReport& report)
{
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const auto& done : report.files) {
    files.push_back({{"path", done.file.path},
                     {"table", done.file.table},
                     {"rows", done.file.rows},
                     {"restored", done.restored},
                     {"skipped", done.skipped}});
  }
  return {{"ok", true}, {"dry_run", report.dry_run}, {"files", std::move(files)}};
}

} // namespace housekeep
