// Results for stdout: short aligned tables for people, one JSON document for programs.
#pragma once

#include "housekeep/archive.hpp"
#include "housekeep/error.hpp"
#include "housekeep/history.hpp"
#include "housekeep/run.hpp"
#include "housekeep/store.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace housekeep {

/// The JSON document of a run (SPEC §8); with a failure it also carries "error".
nlohmann::ordered_json run_report_json(const RunReport& report);

/// The table printed by `run`: one line per table deleted from, or per statistic.
std::string run_report_table(const RunReport& report);

/// The JSON document of an error: {"ok": false, "error": {"code", "kind", "message"}}.
nlohmann::ordered_json error_json(ExitCode code, const std::string& message, const std::string& hint);

/// The history as JSON: {"ok": true, "runs": [...]}.
nlohmann::ordered_json history_json(const std::vector<RunRecord>& runs);

/// The history as an aligned table, newest first.
std::string history_table(const std::vector<RunRecord>& runs);

/// What restore put back, as JSON: {"ok": true, "dry_run": ..., "files": [...]}.
nlohmann::ordered_json restore_json(const RestoreReport& report);

/// What restore put back, one line per archive file.
std::string restore_table(const RestoreReport& report);

/// Lays out rows as columns separated by two spaces; `right` marks right-aligned columns.
std::string format_columns(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right);

} // namespace housekeep
