// The purge engine shared by every deleting task: schema checks, then keyset batches, each
// one short write transaction deleting children first, until the policy is drained.
#pragma once

#include "housekeep/task.hpp"
#include "housekeep/task_kind.hpp"
#include "housekeep/time_column.hpp"

#include <optional>
#include <string>
#include <vector>

namespace housekeep {

/// A table deleted with its parent: rows whose `foreign_key` references a deleted parent row.
struct Cascade {
  std::string table;
  std::string foreign_key;
  std::string id_column;
  std::vector<Cascade> children;
};

/// "Rows of `column` older than `cutoff`", compared in the column's own representation.
struct AgeLimit {
  std::string column;
  TimeSettings time;
  TimePoint cutoff;
  Millis future{std::chrono::hours(24)}; // how far ahead a value may plausibly lie
};

/// Which rows a task deletes: rows of `table` matching `where` (and `age`, if set), with
/// their descendants.
struct PurgePolicy {
  std::string task; // for messages: "tasks.<name>"
  std::string name; // the task's name, for archive files
  std::string table;
  std::string id_column;
  std::optional<AgeLimit> age;
  std::vector<Condition> where;
  std::vector<Cascade> children;
  /// What to do with rows that tables outside the cascade still reference: keep them, or
  /// stop the task before its first delete.
  OnReferenced referenced = OnReferenced::keep;
};

/// The keys of a purge kind: `table` and `id_column`, then `own`, then `children`,
/// `referenced` and `allow_empty`. `table` is required unless given a default.
std::vector<KeySpec> purge_keys(std::vector<KeySpec> own, std::string table = {});

/// The policy of a purge task as far as every purge kind shares it: its name, table, key,
/// cascade and what to do with referenced rows. The kind adds which rows.
PurgePolicy purge_policy(const TaskContext& context);

/// Rows whose `time_column` is older than the task's `older_than` (or --older-than) before
/// the task's start: the age limit of a retention kind.
AgeLimit retention(const TaskContext& context);

/// The tables a purge task works on: its own.
std::vector<std::string> purge_tables(const TaskConfig& task, const Config& config);

/// The tables deleted with rows of `table`: the union of every task's `children`, followed
/// recursively (the configuration guarantees there is no cycle).
std::vector<Cascade> cascade_from(const Config& config, const std::string& table);

/// Throws DataError unless `table` exists with every one of `columns`; `what` begins the
/// message (the task), `section` names where the table is configured (default: `what`).
void require_columns(Store& store, const std::string& table, const std::vector<std::string>& columns,
                     std::string_view what, std::string_view section = {});

/// Counts the rows of the set by stretches of `key_column`, each sized so that its read is
/// short: in SQLite's rollback-journal mode one long read keeps every writer from committing.
std::int64_t count_in_stretches(Store& store, const RowSet& rows, const std::string& key_column);

/// Whether the planned row sets would take every row of `table`, which has rows now. Asked
/// of its newest rows by key first (one short read, and the usual answer is no), then, only
/// if all of those would go, of the whole table in short stretches. A table without a set's
/// key column (a leaf of a cascade needs none) is judged by the sets' counts added up.
bool would_empty(Store& store, const std::string& table, const PlannedDeletions& planned);

/// Deletes the policy's rows and their descendants in batches (or, on a dry run, counts
/// them), adding rows per table to `result` as batches commit. Every check (schema, foreign
/// keys not covered by the cascade, time column plausibility) runs before the first delete.
void purge(TaskContext& context, const PurgePolicy& policy, TaskResult& result);

} // namespace housekeep
