#include "housekeep/purge.hpp"

#include "housekeep/archive.hpp"
#include "housekeep/duration.hpp"
#include "housekeep/error.hpp"
#include "housekeep/text.hpp"
#include "housekeep/time_column.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <random>

namespace housekeep {

namespace {

// Measures how long each write transaction holds the lock (a measurement, not a policy input).
using Stopwatch = std::chrono::steady_clock;

struct Edge {
  const std::string* parent;
  const ChildConfig* child;
};

std::vector<Edge> cascade_edges(const Config& config)
{
  std::vector<Edge> edges;
  auto add = [&](const std::string& parent, const std::vector<ChildConfig>& children) {
    for (const auto& child : children) {
      const bool seen = std::any_of(edges.begin(), edges.end(), [&](const Edge& e) {
        return same_table(*e.parent, parent) && same_table(e.child->table, child.table) &&
               e.child->foreign_key == child.foreign_key;
      });
      if (!seen) {
        edges.push_back({&parent, &child});
      }
    }
  };
  for (const auto& task : config.tasks) {
    add(task.table(), task.children());
  }
  return edges;
}

std::vector<Cascade> cascade_of(const std::vector<Edge>& edges, const std::string& table)
{
  std::vector<Cascade> out;
  for (const auto& edge : edges) {
    if (same_table(*edge.parent, table)) {
      out.push_back(
        {edge.child->table, edge.child->foreign_key, edge.child->id_column, cascade_of(edges, edge.child->table)});
    }
  }
  return out;
}

// The rows of each descendant table, as row sets hanging off `parent`, deepest first, so
// that deleting them in order never leaves a row whose parent is gone.
void descendants(const std::shared_ptr<const RowSet>& parent, const std::string& parent_key,
                 const std::vector<Cascade>& children, std::vector<std::shared_ptr<const RowSet>>& out)
{
  for (const auto& child : children) {
    auto rows = std::make_shared<RowSet>();
    rows->table = child.table;
    rows->where.emplace_back(ChildOf{child.foreign_key, parent, parent_key});
    descendants(rows, child.id_column, child.children, out);
    out.push_back(std::move(rows));
  }
}

void check_cascade_schema(Store& store, const std::vector<Cascade>& children, std::string_view what)
{
  for (const auto& child : children) {
    std::vector<std::string> columns{child.foreign_key};
    if (!child.children.empty()) {
      columns.push_back(child.id_column);
    }
    require_columns(store, child.table, columns, what);
    check_cascade_schema(store, child.children, what);
  }
}

// A way rows outside the cascade reference rows of it. A row of the policy's table that is,
// or leads down the cascade to, a row referenced so stays, with everything below it:
// deleting it would orphan the referencing row, or fire the key's ON DELETE action behind
// housekeep's back (uncounted, unarchived).
struct OutsideReference {
  ForeignKey key;          // the referencing table and column, and the table they reference
  ReferencedBy referenced; // on the policy's table: the row, or a descendant, is referenced so
};

// The references that the cascade from `table` (keyed by `key_column`) does not follow
// itself, into `table` and every table below it, as conditions on `table`'s rows.
std::vector<OutsideReference> outside_references(const std::vector<ForeignKey>& keys, const std::string& table,
                                                 const std::string& key_column, const std::vector<Cascade>& children)
{
  std::vector<OutsideReference> out;
  for (const auto& key : keys) {
    const bool followed = std::any_of(children.begin(), children.end(), [&](const Cascade& c) {
      return same_table(c.table, key.child_table) && c.foreign_key == key.column;
    });
    if (same_table(key.parent_table, table) && !followed) {
      out.push_back(
        {key, ReferencedBy{key.parent_column, std::make_shared<RowSet>(RowSet{key.child_table, {}}), key.column}});
    }
  }
  for (const auto& child : children) {
    for (auto& below : outside_references(keys, child.table, child.id_column, child.children)) {
      auto rows = std::make_shared<RowSet>(RowSet{child.table, {below.referenced}});
      below.referenced = ReferencedBy{key_column, std::move(rows), child.foreign_key};
      out.push_back(std::move(below));
    }
  }
  return out;
}

// The tables a purge deletes from: the policy's, and every one of its cascade.
void cascade_tables(const std::string& table, const std::vector<Cascade>& children, std::vector<std::string>& out)
{
  out.push_back(table);
  for (const auto& child : children) {
    cascade_tables(child.table, child.children, out);
  }
}

// A foreign key of several columns into (or out of) the tables a purge deletes from cannot be
// judged a column at a time: which rows it keeps, or which children it names, would be wrong.
// Refused before the first delete.
void check_single_column_keys(const std::vector<ForeignKey>& keys, const std::string& table,
                              const std::vector<Cascade>& children, std::string_view what)
{
  std::vector<std::string> tables;
  cascade_tables(table, children, tables);
  for (const auto& key : keys) {
    const auto touches = [&](const std::string& name) {
      return std::any_of(tables.begin(), tables.end(), [&](const std::string& t) { return same_table(t, name); });
    };
    if (key.width > 1 && (touches(key.parent_table) || touches(key.child_table))) {
      throw DataError(fmt::format("{}: '{}' references '{}' by a foreign key of {} columns ({} among them); "
                                  "housekeep follows keys of one column only",
                                  what, key.child_table, key.parent_table, key.width, key.column),
                      "purge these tables another way; nothing was deleted");
    }
  }
}

// "3 rows of 'users' still referenced by auth_user_groups.user_id", or for a reference
// further down the cascade "2 rows of 'conversations' whose rows of 'messages' are still
// referenced by attachments.message_id".
std::string kept_phrase(const KeptRows& kept)
{
  const std::string rows =
    fmt::format("{} {} of '{}'", with_thousands(kept.rows), kept.rows == 1 ? "row" : "rows", kept.table);
  if (kept.through.empty()) {
    return fmt::format("{} still referenced by {}", rows, kept.referenced_by);
  }
  return fmt::format("{} whose rows of '{}' are still referenced by {}", rows, kept.through, kept.referenced_by);
}

// One line per reference that kept rows.
void report_kept(const TaskContext& context, const PurgePolicy& policy, const TaskResult& result)
{
  for (const auto& kept : result.kept) {
    context.log.log(LogLevel::info,
                    fmt::format("{}: {} {}; add that table to the cascade to delete them too", policy.name,
                                context.options.dry_run ? "would keep" : "kept", kept_phrase(kept)),
                    {.table = kept.table, .rows = kept.rows});
  }
}

// The kept-rows entry of a reference, with no rows yet.
KeptRows kept_entry(const std::string& table, const OutsideReference& reference)
{
  const ForeignKey& key = reference.key;
  return KeptRows{table, fmt::format("{}.{}", key.child_table, key.column),
                  same_table(key.parent_table, table) ? std::string() : key.parent_table, 0};
}

// An orphan policy's parent must be the one the schema declares for its column: rows that
// name another table's keys are not orphans (a wrong parent would delete live rows).
void check_declared_parent(const std::vector<ForeignKey>& keys, const std::string& table, const Orphan& orphan,
                           std::string_view what)
{
  for (const auto& key : keys) {
    if (same_table(key.child_table, table) && key.column == orphan.column &&
        (!same_table(key.parent_table, orphan.parent_table) || key.parent_column != orphan.parent_key)) {
      throw ConfigError(fmt::format("{}: parent is '{}.{}', but the schema declares '{}.{}' REFERENCES '{}.{}'", what,
                                    orphan.parent_table, orphan.parent_key, table, key.column, key.parent_table,
                                    key.parent_column),
                        fmt::format("set parent = \"{}\" (and parent_id_column = \"{}\") under [{}]; nothing "
                                    "was deleted",
                                    key.parent_table, key.parent_column, what));
    }
  }
}

// One row set of a cascade, with the column that keys its rows, its depth below the
// policy's own table, and the tables deleted with it.
struct KeySet {
  std::shared_ptr<const RowSet> rows;
  std::string key_column;
  int depth = 0;
  const std::vector<Cascade>* children = nullptr;
};

// Each row set of the cascade from `root` (keyed by `key_column`, at `depth`): descendants
// deepest first, `root` last, the order in which they are deleted.
std::vector<KeySet> key_sets(const std::shared_ptr<const RowSet>& root, const std::string& key_column,
                             const std::vector<Cascade>& children, int depth)
{
  std::vector<KeySet> sets;
  std::vector<std::shared_ptr<const RowSet>> tree;
  descendants(root, key_column, children, tree);
  // descendants() appends each child after its own subtree; its key column is its cascade's.
  std::function<void(const std::vector<Cascade>&, int)> keys = [&](const std::vector<Cascade>& level, int below) {
    for (const auto& child : level) {
      keys(child.children, below + 1);
      sets.push_back({tree[sets.size()], child.id_column, below, &child.children});
    }
  };
  keys(children, depth + 1);
  sets.push_back({root, key_column, depth, &children});
  return sets;
}

// One keyset walk: the rows of `selection` in the order of `columns`, each stretch with
// its descendants, deepest first. The policy's own walk and the sweeps of its cascade.
struct Walk {
  std::shared_ptr<const RowSet> selection;
  std::vector<std::string> columns;   // the last one is unique
  std::vector<Condition> range_where; // what a stretch's rows must satisfy besides its bounds
  std::string key_column;             // of the walked table, referenced by its children
  const std::vector<Cascade>* children = nullptr;
  int depth = 0;            // of the walked table below the policy's own
  std::vector<Value> start; // where the walk starts (exclusive); empty: at the beginning
  // The rows the walk passes over, in its order: the index range its selection lies in
  // (the policy's table before its cutoff; a sweep's table up to its span's end).
  std::shared_ptr<const RowSet> scan;
  // The policy's walk: its rows before outside references kept some (the selection is
  // these less the kept ones), and those references. None for sweeps.
  std::shared_ptr<const RowSet> candidates;
  const std::vector<OutsideReference>* outside = nullptr;
};

// The walk of the policy's own table. A stretch's bounds were read from rows of the
// selection, so they imply its age limit; leaving that out of the stretches lets the index
// serve both ends of each range instead of scanning on to the cutoff.
Walk policy_walk(const std::shared_ptr<const RowSet>& selection, const PurgePolicy& policy,
                 std::vector<Condition> range_where, std::vector<std::string> columns,
                 std::shared_ptr<const RowSet> scan)
{
  return Walk{selection, std::move(columns), std::move(range_where), policy.id_column, &policy.children, 0,
              {},        std::move(scan)};
}

// The row sets of the whole walk, deepest first, the walked table last.
std::vector<KeySet> walk_sets(const Walk& walk)
{
  return key_sets(walk.selection, walk.key_column, *walk.children, walk.depth);
}

// The row sets of one stretch of the walk, (after, through], deepest first.
std::vector<KeySet> stretch_sets(const Walk& walk, std::vector<Value> after, std::vector<Value> through)
{
  auto range = std::make_shared<RowSet>();
  range->table = walk.selection->table;
  range->where = walk.range_where;
  range->where.emplace_back(Within{walk.columns, std::move(after), std::move(through)});
  return key_sets(range, walk.key_column, *walk.children, walk.depth);
}

// The next `limit` rows of the selection after `after` in walk order (up to `through`, if
// not empty).
BatchEnd next_in_walk(Store& store, const RowSet& selection, const std::vector<std::string>& walk,
                      const std::vector<Value>& after, std::int64_t limit, std::vector<Value> through = {})
{
  RowSet rest = selection;
  rest.where.emplace_back(Within{walk, after, std::move(through)});
  return store.next_batch(rest, walk, static_cast<std::size_t>(limit));
}

// The set with every parent looked up row by row (by its key, through its index) rather
// than listed first: a walk in the set's own key order asks about a few rows at a time,
// and listing a large parent set for each of its statements would cost more than the rows.
std::shared_ptr<RowSet> correlated(const RowSet& rows)
{
  auto out = std::make_shared<RowSet>(rows);
  for (auto& condition : out->where) {
    if (auto* child_of = std::get_if<ChildOf>(&condition)) {
      child_of->correlated = true;
      child_of->parent = correlated(*child_of->parent);
    }
  }
  return out;
}

// A time-sized chunk of a batch passes at most this many rows of the walk's range for each
// row of the walk it is after (see Density).
constexpr double k_max_scan_factor = 64.0;

// How long the reads of one stretch of counting should take: in rollback-journal mode a
// writer of the application waits for the read in progress to end before it can commit.
constexpr std::chrono::milliseconds k_stretch_time{20};

// Walks the set in stretches, in the order of `walk`, handing each stretch's bounds
// (after, through] and row count to `each`, until the set ends or `each` returns false.
// The first stretch is k_count_stretch rows; each next one moves toward the size whose
// reads (the walk's and those of `each`) would have taken k_stretch_time, by at most half
// or double: how much a row of the walk costs to count varies with its cascade and with
// how sparse the set is in its index.
void for_each_stretch(
  Store& store, const RowSet& selection, const std::vector<std::string>& walk,
  const std::function<bool(const std::vector<Value>&, const std::vector<Value>&, std::int64_t)>& each)
{
  std::vector<Value> after;
  std::int64_t size = k_count_stretch;
  while (true) {
    const auto started = Stopwatch::now();
    BatchEnd end = next_in_walk(store, selection, walk, after, size);
    if (end.rows == 0) {
      return;
    }
    if (!each(after, end.last, end.rows) || end.rows < size) {
      return;
    }
    after = std::move(end.last);
    const double took = std::chrono::duration<double, std::milli>(Stopwatch::now() - started).count();
    const double ratio = static_cast<double>(k_stretch_time.count()) / std::max(took, 0.1);
    size = std::clamp<std::int64_t>(static_cast<std::int64_t>(static_cast<double>(size) * std::clamp(ratio, 0.5, 2.0)),
                                    1, k_max_batch_size);
  }
}

// Adds to `result` the rows of the walk's candidates in (after, through] (through empty:
// to the end) that outside references keep, per reference, given that `selected` of them
// are the walk's own. One count of the stretch when nothing is kept, the usual case; a
// row referenced in several ways counts under each.
void count_kept(Store& store, const Walk& walk, const std::vector<Value>& after, const std::vector<Value>& through,
                std::int64_t selected, TaskResult& result)
{
  if (walk.outside == nullptr || walk.outside->empty()) {
    return;
  }
  RowSet stretch = *walk.candidates;
  stretch.where.emplace_back(Within{walk.columns, after, through});
  if (store.count(stretch) <= selected) {
    return;
  }
  for (const auto& reference : *walk.outside) {
    RowSet kept = stretch;
    kept.where.emplace_back(reference.referenced);
    KeptRows entry = kept_entry(walk.candidates->table, reference);
    entry.rows = store.count(kept);
    if (entry.rows > 0) {
      result.add_kept(entry);
    }
  }
}

// Throws Stopped when the run was asked to stop (SIGTERM, its timeout) while `doing`.
void stop_if_asked(const TaskContext& context, std::string_view what, std::string_view doing)
{
  if (const StopReason reason = context.stop_reason(); reason != StopReason::none) {
    throw Stopped(reason, fmt::format("{}: {} while {}", what,
                                      reason == StopReason::timed_out ? "timed out" : "interrupted", doing));
  }
}

// Adds to `result` the rows of each of the walk's sets, by stretches of the walk, leaving
// out those of earlier planned sets, and the rows outside references keep.
void count_in_walk(TaskContext& context, const Walk& walk, TaskResult& result)
{
  const PlannedDeletions* planned = context.planned;
  std::vector<Value> last;
  for_each_stretch(context.store, *walk.selection, walk.columns,
                   [&](const std::vector<Value>& after, const std::vector<Value>& through, std::int64_t found) {
                     stop_if_asked(context, context.task->name, "counting (nothing was deleted)");
                     count_kept(context.store, walk, after, through, found, result);
                     last = through;
                     for (const auto& set : stretch_sets(walk, after, through)) {
                       RowSet counted = *set.rows;
                       if (planned != nullptr) {
                         for (const auto& earlier : planned->entries) {
                           if (same_table(earlier.rows->table, counted.table) && earlier.key_column == set.key_column) {
                             counted.where.emplace_back(NotAmong{set.key_column, correlated(*earlier.rows)});
                           }
                         }
                       }
                       result.add_deleted(counted.table, context.store.count(counted));
                     }
                     return true;
                   });
  count_kept(context.store, walk, last, {}, 0, result); // past the last row it deletes
}

// The rows of the walk's candidates that outside references keep, by stretches of the walk.
TaskResult kept_in_walk(Store& store, const Walk& walk)
{
  TaskResult kept;
  std::vector<Value> last;
  for_each_stretch(store, *walk.selection, walk.columns,
                   [&](const std::vector<Value>& after, const std::vector<Value>& through, std::int64_t found) {
                     count_kept(store, walk, after, through, found, kept);
                     last = through;
                     return true;
                   });
  count_kept(store, walk, last, {}, 0, kept);
  return kept;
}

// Counts what a real run would delete, leaving out rows that earlier tasks of this dry run
// already counted, then records this task's row sets for the tasks after it. Counts go by
// stretches of the walk, so that no single read holds the database for long (in rollback
// journal mode a long read keeps the application's writers from committing).
void count_planned(TaskContext& context, const Walk& walk, TaskResult& result)
{
  const auto sets = walk_sets(walk);
  for (const auto& set : sets) {
    result.add_deleted(set.rows->table, 0);
  }
  PlannedDeletions* planned = context.planned;
  if (planned == nullptr || planned->count) {
    count_in_walk(context, walk, result);
  }
  if (planned != nullptr) {
    for (const auto& set : sets) {
      planned->entries.push_back({set.rows, set.key_column});
    }
  }
}

// How big batches are and how they follow each other.
struct BatchPlan {
  std::int64_t most = 1000; // rows of the policy's table per write transaction, at most
  Millis target{0};         // time-sized: keep each write transaction about this long
  Millis pause{0};          // between batches
  StoreTraits store;        // how the application's writers wait
  // While no other connection writes: keep each write transaction about this long instead.
  // Only when the configuration leaves batch_time to the engine: a batch_time set is held.
  std::optional<Millis> quiet_target;

  bool timed() const { return target.count() > 0; }

  // What a batch aims at, by whether other connections are writing.
  Millis target_for(bool quiet) const { return quiet && quiet_target ? *quiet_target : target; }

  // Time-sized batches start small, since one row may bring thousands of cascaded rows.
  std::int64_t first_size() const { return timed() ? std::min(k_first_timed_batch, most) : most; }

  // The next batch's size after one of `size` rows held the lock for `held`: toward the size
  // that would have taken `aim` (the target, or the quiet one), by at most half or four
  // times, so that one slow batch (a cold cache, a checkpoint) does not swing it, while a
  // walk's first batches, far below the target, reach it within a few. Growing is safe: a
  // batch commits early by time.
  std::int64_t next_size(std::int64_t size, std::chrono::milliseconds held, Millis aim) const
  {
    if (!timed()) {
      return most;
    }
    const double ratio =
      static_cast<double>(aim.count()) / static_cast<double>(std::max<std::int64_t>(held.count(), 1));
    const double next = static_cast<double>(size) * std::clamp(ratio, 0.5, 4.0);
    return std::clamp<std::int64_t>(static_cast<std::int64_t>(next), 1, most);
  }

  // The pause after a batch that held the lock for `held`, when the lock was last left free
  // long enough for any waiting writer `busy` ago. Time-sized batches pause in proportion to
  // their hold, `pause` after one that took `aim`, so the purge holds the lock about
  // the same share of the time whatever a batch's size; but, where writers retry on their
  // own schedule (the store's traits), never less than a writer that started waiting `busy`
  // ago needs to find the lock free at its next retry (a short batch after a long wait would
  // otherwise leave it too short a gap), and at most four times `pause` or that gap.
  // Fixed-size batches always pause `pause`.
  Millis pause_after(Stopwatch::duration busy, std::chrono::milliseconds held, Millis aim) const
  {
    if (!timed() || pause.count() == 0) {
      return pause;
    }
    const auto share = pause.count() * held.count() / aim.count();
    const auto gap =
      store.writer_retry_gap == nullptr ? Millis{0} : store.writer_retry_gap(std::chrono::duration_cast<Millis>(busy));
    const auto needed = std::max<std::int64_t>(share, gap.count());
    return Millis{std::clamp<std::int64_t>(needed, 1, std::max<std::int64_t>(4 * pause.count(), gap.count()))};
  }

  // A time-sized batch is deleted in chunks of an eighth of it, and the transaction commits
  // early once the target, less what the last commit took, has passed: the cost per row can
  // jump within a batch (live rows between scattered ones make every delete touch pages of
  // its own, and the commit writes them all), and this bounds the overrun to about one chunk.
  std::int64_t chunk(std::int64_t size) const { return timed() ? std::max<std::int64_t>(size / 8, 1) : size; }

  // True when a time-sized batch aiming at `aim` that has held the lock for `held` should
  // commit now, given that the last commit took `commit`.
  bool closing(Stopwatch::duration held, Stopwatch::duration commit, Millis aim) const
  {
    return timed() && held + commit >= aim;
  }
};

BatchPlan batch_plan(const TaskContext& context)
{
  const RunOptions& options = context.options;
  const DefaultsConfig& defaults = context.config.defaults;
  BatchPlan plan;
  plan.most = options.batch_size.value_or(defaults.batch_size);
  plan.store = context.store.traits();
  plan.target = options.batch_time.value_or(defaults.batch_time.value_or(plan.store.batch_time));
  plan.pause = options.sleep.value_or(defaults.sleep.value_or(plan.store.pause));
  if (!options.batch_time && !defaults.batch_time) {
    plan.quiet_target = plan.store.quiet_batch_time;
  }
  return plan;
}

std::vector<std::string> condition_columns(const std::vector<Condition>& where)
{
  std::vector<std::string> columns;
  for (const auto& condition : where) {
    std::visit(
      [&](const auto& c) {
        if constexpr (std::is_same_v<std::decay_t<decltype(c)>, Within>) {
          columns.insert(columns.end(), c.columns.begin(), c.columns.end());
        } else {
          columns.push_back(c.column);
        }
      },
      condition);
  }
  return columns;
}

// The walks that delete a policy's scattered descendants before the walk of its own table:
// one for each cascaded table whose rows to delete lie densely enough in its integer key
// range (measured by stretches of the policy's walk, so that no read is long). Each sweep's
// batches delete their own descendants too, so a row the application added meanwhile is
// never orphaned; the walk of the policy's table deletes whatever the sweeps did not reach.
std::vector<Walk> plan_sweeps(TaskContext& context, const Walk& walk, std::string_view what)
{
  const std::optional<double> sweep_density = context.store.traits().sweep_density;
  if (walk.children->empty() || !sweep_density) {
    return {};
  }
  const auto sets = walk_sets(walk);
  struct Span {
    std::int64_t rows = 0;
    std::optional<std::int64_t> lowest;
    std::optional<std::int64_t> highest;
    bool integer = true;

    void add(const KeySpan& found)
    {
      rows += found.rows;
      if (found.rows == 0) {
        return;
      }
      const auto* low = std::get_if<std::int64_t>(&found.lowest);
      const auto* high = std::get_if<std::int64_t>(&found.highest);
      if (low == nullptr || high == nullptr) {
        integer = false;
        return;
      }
      lowest = std::min(lowest.value_or(*low), *low);
      highest = std::max(highest.value_or(*high), *high);
    }
  };
  std::vector<Span> spans(sets.size());
  // A table deleted only as a leaf of the cascade need not have the key column the
  // configuration names for its children; such a table is never walked on its own.
  for (std::size_t i = 0; i + 1 < sets.size(); ++i) {
    const auto columns = context.store.columns(sets[i].rows->table);
    spans[i].integer = columns && std::find(columns->begin(), columns->end(), sets[i].key_column) != columns->end();
  }
  for_each_stretch(context.store, *walk.selection, walk.columns,
                   [&](const std::vector<Value>& after, const std::vector<Value>& through, std::int64_t) {
                     stop_if_asked(context, what, "planning the walks (nothing was deleted yet)");
                     const auto stretch = stretch_sets(walk, after, through);
                     for (std::size_t i = 0; i + 1 < stretch.size(); ++i) {
                       if (spans[i].integer) {
                         spans[i].add(context.store.key_span(*stretch[i].rows, stretch[i].key_column));
                       }
                     }
                     return true;
                   });

  std::vector<Walk> sweeps;
  for (std::size_t i = 0; i + 1 < sets.size(); ++i) {
    const Span& span = spans[i];
    if (!span.integer || span.rows == 0) {
      continue;
    }
    const double width = static_cast<double>(*span.highest - *span.lowest) + 1.0;
    const double density = static_cast<double>(span.rows) / width;
    if (density < *sweep_density) {
      continue;
    }
    const KeySet& set = sets[i];
    auto rows = correlated(*set.rows);
    // A stretch's own bounds imply the span's: left out of its deletes, so that the key's
    // index serves both ends of each stretch rather than the span's.
    const std::vector<Condition> range_where = rows->where;
    rows->where.emplace_back(Within{{set.key_column}, {}, {Value{*span.highest}}});
    context.log.debug("{}: {} rows of '{}' lie in keys {}..{} ({:.0f}% dense): deleting them in key "
                      "order before their parents",
                      what, with_thousands(span.rows), set.rows->table, *span.lowest, *span.highest, density * 100.0);
    auto scan = std::make_shared<RowSet>();
    scan->table = set.rows->table;
    scan->where.emplace_back(Within{{set.key_column}, {}, {Value{*span.highest}}});
    sweeps.push_back(Walk{rows,
                          {set.key_column},
                          range_where,
                          set.key_column,
                          set.children,
                          set.depth,
                          {Value{*span.lowest - 1}},
                          std::move(scan)});
  }
  return sweeps;
}

// The next stretch of a walk to delete, (after, through].
struct Chunk {
  std::vector<Value> through; // empty: nothing is left
  bool last = false;          // it reaches the end of the walk's range
  std::int64_t scanned = 0;   // rows of the walk's range it spans, when it was fenced
};

// How much the density the last chunks found weighs against that of the ones before: the
// rows to delete cluster (a month of orphans, then none), so the estimate follows the last
// few chunks.
constexpr double k_density_memory = 0.5;

// How densely the walk's rows lie among the rows of its range, as its last chunks found
// them: a time-sized chunk spans as many rows of the range as should hold the rows it asks
// for. Where the walk's rows lie sparsely among others (orphans among live messages),
// finding them could otherwise scan far, holding the transaction well past its time before
// the batch can close, or take many chunks of a few rows each.
struct Density {
  double scanned = 0; // rows of the range the chunks spanned, the older ones weighing less
  double found = 0;   // rows of the walk they deleted, likewise

  void add(std::int64_t spanned, std::int64_t deleted)
  {
    scanned = scanned * k_density_memory + static_cast<double>(spanned);
    found = found * k_density_memory + static_cast<double>(deleted);
  }

  // Rows of the range to span for `ask` rows of the walk: as many at first (never more rows
  // than asked for), then by the density found so far, at most k_max_scan_factor times.
  std::int64_t span(std::int64_t ask) const
  {
    const double factor = found > 0 ? scanned / found : scanned > 0 ? k_max_scan_factor : 1.0;
    return std::clamp<std::int64_t>(
      static_cast<std::int64_t>(static_cast<double>(ask) * std::clamp(factor, 1.0, k_max_scan_factor)), 1,
      k_max_batch_size);
  }
};

// The stretch after `after` to delete next. A time-sized chunk of a walk whose rows are not
// all of its range ends at a fence, the row of the range Density::span() rows on (or the
// range's last): up to a fence, the fence implies the selection's range (as a stretch's
// bounds do), so the deletes find the walk's rows in it themselves, with their index serving
// both ends. Where every row up to the fence being the walk's would take the batch past the
// rows it may hold (`room`: batch_size is a promise), the chunk ends at the `ask`-th of the
// walk's rows before the fence, read first. Otherwise the chunk ends at the `ask`-th row.
Chunk next_chunk(Store& store, const Walk& walk, const BatchPlan& plan, const Density& density,
                 const std::vector<Value>& after, std::int64_t ask, std::int64_t room)
{
  if (plan.timed() && !walk.range_where.empty()) {
    RowSet rest = *walk.scan;
    rest.where.emplace_back(Within{walk.columns, after, {}});
    const std::int64_t span = density.span(ask);
    BatchEnd fence = store.fence(rest, walk.columns, static_cast<std::size_t>(span));
    const bool last = fence.rows < span;
    Chunk chunk{std::move(fence.last), last, last ? span : fence.rows};
    if (chunk.through.empty() || span <= room) {
      return chunk;
    }
    BatchEnd end =
      next_in_walk(store, RowSet{walk.selection->table, walk.range_where}, walk.columns, after, ask, chunk.through);
    if (end.rows == ask) {
      return Chunk{std::move(end.last), false, 0}; // short of the fence: how many rows it spans is not known
    }
    return chunk;
  }
  BatchEnd end = next_in_walk(store, *walk.selection, walk.columns, after, ask);
  return Chunk{std::move(end.last), end.rows < ask, 0};
}

// The rows the purge left dead in each table it deleted from, where the engine counts them
// (PostgreSQL: their space is reused once vacuum has passed, never returned to the disk by
// itself; a purge that "did nothing" to the database's size did this). And the planner's
// statistics of a table the purge changed much, taken afresh when a later task of the run
// deletes rows too (its statements are planned on them; ANALYZE of a million-row table
// takes about a second); after the last, the engine's own upkeep (autovacuum) takes them.
void after_purge(TaskContext& context, TaskResult& result)
{
  Maintenance* engine = context.store.maintenance();
  if (engine == nullptr) {
    return;
  }
  for (const auto& [table, rows] : result.deleted) {
    if (rows == 0) {
      continue;
    }
    if (const auto space = engine->table_space(table)) {
      result.dead_rows.emplace_back(table, space->dead_rows);
      context.log.info("{}: '{}' holds {} dead rows ({} bytes with its indexes) until vacuum passes",
                       context.task->name, table, with_thousands(space->dead_rows), with_thousands(space->bytes));
    }
    if (context.later_purges && engine->refresh_statistics(table)) {
      context.log.debug("{}: took the planner's statistics of '{}' afresh", context.task->name, table);
    }
  }
}

// How often a batch that lost to another transaction (a deadlock, a serialization failure, a
// row the application held locked past the lock timeout) is tried again before the run gives
// up (75), and the first wait, doubled each time (with jitter, so that two losers do not meet
// again): 50 ms, 100 ms, ... 800 ms, about 1.5 s in all besides the lock timeouts.
constexpr int k_conflict_retries = 5;
constexpr std::chrono::milliseconds k_conflict_backoff{50};

std::chrono::milliseconds conflict_backoff(int attempt)
{
  static thread_local std::minstd_rand random{std::random_device{}()};
  const auto base = k_conflict_backoff * (1 << (attempt - 1));
  return base / 2 + std::chrono::milliseconds(std::uniform_int_distribution<std::int64_t>(0, base.count())(random));
}

// What one batch did, before its commit.
struct Batch {
  std::int64_t rows = 0; // of the walked table
  bool drained = false;  // the walk has nothing left after it
  TaskResult counts;     // rows deleted and kept
};

// Reads and deletes the next batch of the walk after `after` (moved past it) in the open
// write transaction, up to `size` rows or about `target` of holding the lock.
Batch fill_batch(TaskContext& context, const PurgePolicy& policy, const BatchPlan& plan, const Walk& walk,
                 Density& density, std::vector<Value>& after, std::int64_t size, Millis target,
                 Stopwatch::time_point started, Stopwatch::duration last_commit)
{
  Store& store = context.store;
  Batch batch;
  while (batch.rows < size) {
    const std::int64_t ask = std::min(plan.chunk(size), size - batch.rows);
    Chunk chunk = next_chunk(store, walk, plan, density, after, ask, plan.most - batch.rows);
    batch.drained = chunk.last;
    std::int64_t rows = 0;
    if (!chunk.through.empty()) {
      for (const auto& set : stretch_sets(walk, after, chunk.through)) {
        if (context.archive != nullptr) {
          store.read_rows(*set.rows, [&](const std::vector<std::string>& names, const std::vector<Value>& values) {
            context.archive->append(policy.name, set.rows->table, set.key_column, set.depth, names, values);
          });
        }
        rows = store.erase(*set.rows); // the walked table's set comes last
        batch.counts.add_deleted(set.rows->table, rows);
      }
    }
    // What is left of the walk's candidates in the stretch, outside references kept.
    count_kept(store, walk, after, batch.drained ? std::vector<Value>{} : chunk.through, 0, batch.counts);
    batch.rows += rows;
    if (chunk.scanned > 0) {
      density.add(chunk.scanned, rows);
    }
    if (!chunk.through.empty()) {
      after = std::move(chunk.through);
    }
    if (batch.drained || plan.closing(Stopwatch::now() - started, last_commit, target)) {
      break;
    }
  }
  return batch;
}

// How often a purge asks how far the standbys are behind, and how often it asks again while
// it waits for them.
constexpr std::chrono::seconds k_standby_check{1};
constexpr std::chrono::milliseconds k_standby_poll{500};

// Between batches: while a standby replays the primary's writes further behind than
// database.max_replication_lag, the purge waits (a bulk delete writes WAL as fast as the
// primary can, and standbys that serve reads would fall minutes behind), saying so in the
// log and on the progress line.
struct StandbyWatch {
  Stopwatch::time_point checked{};
  bool told_invisible = false;

  void after_batch(TaskContext& context, const std::string& what, const TaskResult& result)
  {
    const Millis most = context.config.database.max_replication_lag;
    if (most.count() == 0 || Stopwatch::now() - checked < k_standby_check) {
      return;
    }
    checked = Stopwatch::now();
    auto lag = context.store.standby_lag();
    if (lag && !lag->visible) {
      if (!told_invisible) {
        told_invisible = true;
        context.log.warning("{}: cannot see how far the standbys are behind (max_replication_lag); grant this "
                            "role pg_monitor, or set max_replication_lag = \"0s\"",
                            what);
      }
      return;
    }
    if (!lag || lag->lag <= most) {
      return;
    }
    const auto started = Stopwatch::now();
    context.log.warning("{}: standby '{}' is {} behind (max_replication_lag {}); the purge waits for it", what,
                        lag->standby, humanize_duration(lag->lag), humanize_duration(most));
    while (lag && lag->visible && lag->lag > most) {
      if (context.progress != nullptr) {
        context.progress->paused(context.task->name,
                                 fmt::format("standby '{}' is {} behind", lag->standby, humanize_duration(lag->lag)));
      }
      stop_if_asked(context, what,
                    fmt::format("waiting for standby '{}' ({} rows deleted so far)", lag->standby,
                                with_thousands(result.total_deleted())));
      context.clock.sleep_for(k_standby_poll);
      lag = context.store.standby_lag();
    }
    checked = Stopwatch::now();
    context.log.info("{}: the standbys caught up; the purge goes on after waiting {}", what,
                     humanize_duration(std::chrono::duration_cast<Millis>(checked - started)));
  }
};

// A batch that waited at least this long for the write lock found another writer holding it.
constexpr std::chrono::milliseconds k_lock_taken{2};

// What a purge sees of the application's other writers, across the walks of a task. Where
// the engine shows other connections' commits and the plan allows it (quiet_target), a purge
// that has seen none for the store's quiet_after (since the store was opened, for the first
// task of a run), nor found the lock taken, holds the lock longer per batch; at the first
// sign of a writer it goes back to its target.
struct Traffic {
  Stopwatch::time_point free_since = Stopwatch::now();         // the lock was last left free long enough for any writer
  Stopwatch::time_point waited = Stopwatch::time_point::min(); // a batch last found the lock taken
  bool quiet = false;

  // Between batches: whether another connection committed since the last look.
  void look(TaskContext& context, const BatchPlan& plan, std::string_view what)
  {
    if (!plan.quiet_target || !plan.timed()) {
      return;
    }
    const auto since = context.store.others_quiet_since();
    if (!since) {
      return;
    }
    const bool now_quiet = Stopwatch::now() - std::max(*since, waited) >= plan.store.quiet_after;
    if (now_quiet && !quiet) {
      quiet = true;
      context.log.debug("{}: no other connection has written for {}: write transactions may last {}", what,
                        humanize_duration(plan.store.quiet_after), humanize_duration(*plan.quiet_target));
    } else if (!now_quiet) {
      end_quiet(context, plan, what, "another connection committed");
    }
  }

  // A batch waited for the write lock: another writer held it.
  void lock_taken(TaskContext& context, const BatchPlan& plan, std::string_view what)
  {
    waited = Stopwatch::now();
    end_quiet(context, plan, what, "the write lock was taken");
  }

private:
  void end_quiet(TaskContext& context, const BatchPlan& plan, std::string_view what, std::string_view sign)
  {
    if (quiet) {
      quiet = false;
      context.log.debug("{}: {}: write transactions go back to {}", what, sign, humanize_duration(plan.target));
    }
  }
};

void drain(TaskContext& context, const PurgePolicy& policy, const BatchPlan& plan, const Walk& walk, Traffic& traffic,
           StandbyWatch& standbys, TaskResult& result)
{
  Store& store = context.store;
  const std::string& what = policy.task;
  const std::string& table = walk.selection->table;
  std::vector<Value> after = walk.start;
  std::int64_t size = plan.first_size();
  Stopwatch::duration last_commit{};
  Millis target = plan.target;
  Density density;
  bool drained = false;
  while (!drained) {
    Batch batch;
    Stopwatch::time_point started;
    const std::vector<Value> batch_start = after;
    std::optional<PhaseTimer> deleting(std::in_place, result, "deleting");
    bool was_quiet = traffic.quiet;
    traffic.look(context, plan, what);
    for (int attempt = 1;; ++attempt) {
      try {
        const auto asked = Stopwatch::now();
        auto transaction = store.begin_write();
        started = Stopwatch::now();
        const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(started - asked);
        result.lock_wait += waited;
        if (waited >= k_lock_taken) {
          traffic.lock_taken(context, plan, what);
        }
        if (was_quiet && !traffic.quiet) {
          // Back to the target at once, not by halves: a writer is waiting, or soon will.
          size = std::max<std::int64_t>(1, size * plan.target.count() / plan.target_for(true).count());
          was_quiet = false;
        }
        target = plan.target_for(traffic.quiet);
        // Choosing rows inside the write transaction means no row can change between being
        // chosen and being deleted.
        batch = fill_batch(context, policy, plan, walk, density, after, size, target, started, last_commit);
        if (batch.rows == 0 && batch.drained) {
          break; // nothing was written; the transaction rolls back
        }
        if (context.archive != nullptr) {
          context.archive->sync(); // the archive holds the rows before their delete commits
        }
        const auto committing = Stopwatch::now();
        transaction->commit();
        last_commit = Stopwatch::now() - committing;
        break;
      } catch (const ConflictError& e) {
        // Rolled back (the transaction is gone): the archive takes back the batch's rows, and
        // the batch starts again where it started.
        if (context.archive != nullptr) {
          context.archive->discard(policy.name);
        }
        if (attempt > k_conflict_retries) {
          throw;
        }
        after = batch_start;
        const auto wait = conflict_backoff(attempt);
        context.log.warning("{}: batch {} rolled back ({}); trying it again in {} ({} of {})", what, result.batches + 1,
                            e.what(), humanize_duration(wait), attempt, k_conflict_retries);
        context.clock.sleep_for(wait);
      }
    }
    deleting.reset();
    drained = batch.drained;
    const std::int64_t rows = batch.rows;
    for (const auto& kept : batch.counts.kept) {
      result.add_kept(kept);
    }
    if (rows == 0 && drained) {
      break;
    }
    ++result.batches;
    for (const auto& [name, count] : batch.counts.deleted) {
      result.add_deleted(name, count);
    }
    const auto held = std::chrono::duration_cast<std::chrono::milliseconds>(Stopwatch::now() - started);
    result.slowest_batch = std::max(result.slowest_batch, held);
    const std::int64_t done = result.total_deleted();
    if (context.progress != nullptr) {
      context.progress->advance(policy.name, done, context.expected_rows);
    }
    if (context.log.enabled(LogLevel::debug)) {
      context.log.log(LogLevel::debug,
                      fmt::format("{}: batch {}: {} rows of '{}', write transaction held {} (its commit {})", what,
                                  result.batches, with_thousands(rows), table, humanize_duration(held),
                                  humanize_duration(std::chrono::duration_cast<Millis>(last_commit))),
                      {.table = table, .rows = rows, .duration_ms = held.count()});
    }
    if (drained) {
      break;
    }
    // A batch that only scanned (none of the walk's rows up to its fences) is sized by what
    // it asked for: that is what its reads cost.
    size = plan.next_size(rows > 0 ? rows : size, held, target);
    if (const StopReason reason = context.stop_reason(); reason != StopReason::none) {
      throw Stopped(reason, fmt::format("{}: {} after batch {} ({} rows deleted so far, the last ones "
                                        "from '{}')",
                                        what, reason == StopReason::timed_out ? "timed out" : "interrupted",
                                        result.batches, with_thousands(done), table));
    }
    {
      const PhaseTimer waiting(result, "waiting for standbys");
      standbys.after_batch(context, what, result);
    }
    if (const Millis pause = plan.pause_after(Stopwatch::now() - traffic.free_since, held, target); pause.count() > 0) {
      const PhaseTimer pausing(result, "pausing");
      context.clock.sleep_for(pause);
      traffic.free_since = Stopwatch::now();
    }
  }
}

} // namespace

std::int64_t count_in_stretches(Store& store, const RowSet& rows, const std::string& key_column)
{
  std::int64_t total = 0;
  for_each_stretch(store, rows, {key_column},
                   [&](const std::vector<Value>&, const std::vector<Value>&, std::int64_t found) {
                     total += found;
                     return true;
                   });
  return total;
}

bool would_empty(Store& store, const std::string& table, const PlannedDeletions& planned)
{
  const auto columns = store.columns(table);
  if (!columns) {
    return false; // gone since it was planned: nothing of it is deleted either
  }
  std::vector<const PlannedDeletions::Entry*> entries;
  bool keyed = true;
  for (const auto& entry : planned.entries) {
    if (same_table(entry.rows->table, table)) {
      entries.push_back(&entry);
      keyed = keyed && std::find(columns->begin(), columns->end(), entry.key_column) != columns->end();
    }
  }
  if (entries.empty()) {
    return false; // no planned set deletes from it
  }
  if (!keyed) {
    // Rows without the key cannot be told apart: what the sets delete, added up.
    std::int64_t deleted = 0;
    for (const auto* entry : entries) {
      deleted += store.count(*entry->rows);
    }
    return deleted > 0 && deleted >= store.count(RowSet{table, {}});
  }
  RowSet kept{table, {}};
  for (const auto* entry : entries) {
    kept.where.emplace_back(NotAmong{entry->key_column, correlated(*entry->rows)});
  }
  const std::string& key_column = entries.front()->key_column;
  // Policies delete old rows, so the newest ones by key are the likely survivors.
  constexpr std::size_t k_newest = 1000;
  RowSet newest = kept;
  newest.where.emplace_back(KeyIn{key_column, store.sample(table, key_column, k_newest, true)});
  if (std::get<KeyIn>(newest.where.back()).keys.empty() || store.count(newest) > 0) {
    return false;
  }
  bool survivor = false;
  for_each_stretch(store, RowSet{table, {}}, {key_column},
                   [&](const std::vector<Value>& after, const std::vector<Value>& through, std::int64_t) {
                     RowSet stretch = kept;
                     stretch.where.emplace_back(Within{{key_column}, after, through});
                     survivor = store.count(stretch) > 0;
                     return !survivor;
                   });
  return !survivor;
}

std::vector<Cascade> cascade_from(const Config& config, const std::string& table)
{
  return cascade_of(cascade_edges(config), table);
}

void require_columns(Store& store, const std::string& table, const std::vector<std::string>& columns,
                     std::string_view what, std::string_view section)
{
  if (section.empty()) {
    section = what;
  }
  const auto existing = store.columns(table);
  if (!existing) {
    throw DataError(fmt::format("{}: table '{}' does not exist in database '{}'", what, table, store.describe()),
                    fmt::format("check the table names under [{}] in the configuration", section));
  }
  for (const auto& column : columns) {
    if (std::find(existing->begin(), existing->end(), column) == existing->end()) {
      std::vector<std::string_view> names(existing->begin(), existing->end());
      const std::string guess = closest_match(column, names);
      throw DataError(fmt::format("{}: column '{}' does not exist in table '{}'", what, column, table),
                      guess.empty()
                        ? fmt::format("columns of '{}': {}", table, fmt::join(*existing, ", "))
                        : fmt::format("did you mean '{}'? (check [{}] in the configuration)", guess, section));
    }
  }
}

void purge(TaskContext& context, const PurgePolicy& policy, TaskResult& result)
{
  Store& store = context.store;
  const std::string& what = policy.task;
  std::optional<PhaseTimer> checking(std::in_place, result, "checking");

  std::vector<std::string> columns = condition_columns(policy.where);
  columns.push_back(policy.id_column);
  if (policy.age) {
    columns.push_back(policy.age->column);
  }
  require_columns(store, policy.table, columns, what);
  const std::vector<ForeignKey> keys = store.foreign_keys();
  for (const auto& condition : policy.where) {
    if (const auto* orphan = std::get_if<Orphan>(&condition)) {
      require_columns(store, orphan->parent_table, {orphan->parent_key}, what);
      check_declared_parent(keys, policy.table, *orphan, what);
    }
  }
  check_cascade_schema(store, policy.children, what);
  check_single_column_keys(keys, policy.table, policy.children, what);
  const std::vector<OutsideReference> outside =
    outside_references(keys, policy.table, policy.id_column, policy.children);

  auto candidates = std::make_shared<RowSet>(); // the policy's rows, referenced or not
  candidates->table = policy.table;
  candidates->where = policy.where;
  auto scan = std::make_shared<RowSet>(); // the walk's range: the table, before the cutoff
  scan->table = policy.table;
  if (policy.age) {
    const auto encoding = detect_time_encoding(store, policy.table, policy.age->column, policy.age->time, context.now,
                                               what, policy.age->future);
    if (!encoding) {
      context.log.debug("{}: '{}.{}' holds no timestamps; nothing to delete", what, policy.table, policy.age->column);
      result.add_deleted(policy.table, 0);
      return;
    }
    const Value cutoff = encoding->encode(policy.age->cutoff);
    context.log.debug("{}: '{}.{}' is {}; deleting rows before {}", what, policy.table, policy.age->column,
                      encoding->describe(), describe_value(cutoff));
    // The ends of the column told its layout; every value the cutoff selects is checked too.
    if (context.planned == nullptr || context.planned->check) {
      const auto check_started = Stopwatch::now();
      const std::int64_t checked =
        check_old_side(store, policy.table, policy.age->column, policy.id_column, *encoding, policy.age->cutoff, what);
      context.log.debug(
        "{}: checked {} values before the cutoff in {}", what, with_thousands(checked),
        humanize_duration(std::chrono::duration_cast<std::chrono::milliseconds>(Stopwatch::now() - check_started)));
    }
    candidates->where.emplace_back(Before{policy.age->column, cutoff});
    scan->where.emplace_back(Before{policy.age->column, cutoff});
  }
  // Each batch leaves out, inside its write transaction, the rows still referenced from
  // outside the cascade at that moment.
  std::vector<Condition> range_where = policy.where;
  auto selection = std::make_shared<RowSet>(*candidates);
  for (const auto& reference : outside) {
    ReferencedBy unreferenced = reference.referenced;
    unreferenced.negated = true;
    range_where.emplace_back(unreferenced);
    selection->where.emplace_back(std::move(unreferenced));
    context.log.debug(
      "{}: rows of '{}' referenced by {}.{}{} stay", what, policy.table, reference.key.child_table,
      reference.key.column,
      same_table(reference.key.parent_table, policy.table) ? "" : " through '" + reference.key.parent_table + "'");
  }

  // A keyset walk: each stretch continues after the last row of the one before, in the order
  // of the time column's index (or the key), so that nothing is scanned twice and deletes
  // stay clustered where the rows are.
  std::vector<std::string> order;
  if (policy.age) {
    order.push_back(policy.age->column);
  }
  order.push_back(policy.id_column);
  Walk walk = policy_walk(selection, policy, std::move(range_where), std::move(order), std::move(scan));
  walk.candidates = candidates;
  walk.outside = &outside;

  if (policy.referenced == OnReferenced::fail && !outside.empty()) {
    const TaskResult kept = kept_in_walk(store, walk);
    if (!kept.kept.empty()) {
      std::vector<std::string> reasons;
      for (const auto& k : kept.kept) {
        reasons.push_back(kept_phrase(k));
      }
      throw DataError(fmt::format("{}: {} (referenced = \"fail\")", what, fmt::join(reasons, "; ")),
                      "add those tables to the cascade, or set referenced = \"keep\" to delete the rest; "
                      "nothing was deleted");
    }
  }

  checking.reset();

  if (context.options.dry_run) {
    const PhaseTimer counting(result, "counting");
    count_planned(context, walk, result);
    report_kept(context, policy, result);
    return;
  }

  const BatchPlan plan = batch_plan(context);
  // Registers every table up front so that the result lists them even when nothing goes.
  for (const auto& set : walk_sets(walk)) {
    result.add_deleted(set.rows->table, 0);
  }
  Traffic traffic;
  StandbyWatch standbys;
  std::optional<PhaseTimer> planning(std::in_place, result, "planning");
  const std::vector<Walk> sweeps = plan_sweeps(context, walk, what);
  planning.reset();
  for (const Walk& sweep : sweeps) {
    drain(context, policy, plan, sweep, traffic, standbys, result);
  }
  drain(context, policy, plan, walk, traffic, standbys, result);
  report_kept(context, policy, result);
  const PhaseTimer statistics(result, "statistics");
  after_purge(context, result);
}

} // namespace housekeep

namespace housekeep {

std::vector<KeySpec> purge_keys(std::vector<KeySpec> own, std::string table)
{
  const bool required = table.empty();
  std::vector<KeySpec> keys{{"table", KeyType::identifier, std::move(table), required},
                            {"id_column", KeyType::identifier, std::string("id")}};
  keys.insert(keys.end(), std::make_move_iterator(own.begin()), std::make_move_iterator(own.end()));
  keys.push_back({"children", KeyType::children, std::vector<ChildConfig>{}});
  keys.push_back({"referenced", KeyType::referenced, OnReferenced::keep});
  keys.push_back({"allow_empty", KeyType::boolean, false});
  return keys;
}

PurgePolicy purge_policy(const TaskContext& context)
{
  const TaskConfig& task = *context.task;
  PurgePolicy policy;
  policy.task = "tasks." + task.name;
  policy.name = task.name;
  policy.table = task.table();
  policy.id_column = task.text("id_column");
  policy.children = cascade_from(context.config, policy.table);
  policy.referenced = task.referenced();
  return policy;
}

AgeLimit retention(const TaskContext& context)
{
  const TaskConfig& task = *context.task;
  return AgeLimit{task.text("time_column"), time_settings(task),
                  context.now - context.options.older_than.value_or(task.duration("older_than"))};
}

std::vector<std::string> purge_tables(const TaskConfig& task, const Config&)
{
  return {task.table()};
}

} // namespace housekeep
