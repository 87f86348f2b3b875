// housekeep's own tables, in SQL that every engine speaks: times are ISO-8601 UTC text (which
// sorts as time does), lists are JSON text, the one engine-specific column type (a numbered
// key) comes from the dialect.
#include "housekeep/history.hpp"

#include "housekeep/error.hpp"

#include "store/backend.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>

namespace housekeep {

namespace {

std::string text_of(const Value& value)
{
  if (const auto* text = std::get_if<std::string>(&value)) {
    return *text;
  }
  if (const auto* time = std::get_if<Timestamp>(&value)) {
    return format_utc(std::chrono::floor<std::chrono::milliseconds>(*time));
  }
  if (const auto* n = std::get_if<std::int64_t>(&value)) {
    return std::to_string(*n);
  }
  return {};
}

std::int64_t int_of(const Value& value)
{
  if (const auto* n = std::get_if<std::int64_t>(&value)) {
    return *n;
  }
  if (const auto* b = std::get_if<bool>(&value)) {
    return *b ? 1 : 0;
  }
  return 0;
}

std::optional<TimePoint> time_of(const Value& value)
{
  if (const auto* time = std::get_if<Timestamp>(&value)) {
    return std::chrono::floor<std::chrono::milliseconds>(*time);
  }
  if (std::holds_alternative<std::monostate>(value)) {
    return std::nullopt;
  }
  return parse_utc(text_of(value));
}

Value text_or_null(const std::string& text)
{
  return text.empty() ? Value{} : Value{text};
}

Value time_or_null(const std::optional<TimePoint>& time)
{
  return time ? Value{format_utc(*time)} : Value{};
}

// The string `object` holds under `key`, or empty.
std::string string_in(const nlohmann::json& object, const char* key)
{
  const auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

bool has(const std::vector<std::string>& columns, std::string_view name)
{
  return std::find(columns.begin(), columns.end(), name) != columns.end();
}

// The placeholders $1..$n (or ?, ...) of the dialect, comma-separated.
std::string placeholders(const Dialect& dialect, std::size_t first, std::size_t count)
{
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    out += (i == 0 ? "" : ", ") + dialect.placeholder(first + i);
  }
  return out;
}

// The columns of a run, in the order record_run binds them.
constexpr std::array<std::string_view, 14> k_run_columns{"job",     "task",  "started_at", "finished_at", "status",
                                                         "deleted", "error", "host",       "pid",         "dry_run",
                                                         "output",  "kept",  "trigger",    "stats"};

} // namespace

namespace {

constexpr std::array<std::pair<RunStatus, std::string_view>, 9> k_run_statuses{{
  {RunStatus::ok, "ok"},
  {RunStatus::failed, "failed"},
  {RunStatus::refused, "refused"},
  {RunStatus::skipped, "skipped"},
  {RunStatus::interrupted, "interrupted"},
  {RunStatus::timed_out, "timed-out"},
  {RunStatus::transient, "transient"},
  {RunStatus::running, "running"},
  {RunStatus::abandoned, "abandoned"},
}};

} // namespace

std::string_view run_status_name(RunStatus status)
{
  for (const auto& [value, name] : k_run_statuses) {
    if (value == status) {
      return name;
    }
  }
  return "unknown";
}

RunStatus parse_run_status(std::string_view name)
{
  for (const auto& [value, known] : k_run_statuses) {
    if (known == name) {
      return value;
    }
  }
  return RunStatus::unknown;
}

History::History(Backend& backend, std::string schema)
    : m_backend(backend), m_schema(std::move(schema)),
      m_runs(m_schema.empty() ? "housekeep_runs" : m_schema + ".housekeep_runs"),
      m_jobs(m_schema.empty() ? "housekeep_jobs" : m_schema + ".housekeep_jobs"),
      m_replicas(m_schema.empty() ? "housekeep_replicas" : m_schema + ".housekeep_replicas"),
      m_claims(m_schema.empty() ? "housekeep_claims" : m_schema + ".housekeep_claims")
{
}

bool History::ensured(const std::string& table) const
{
  return std::find(m_ensured.begin(), m_ensured.end(), table) != m_ensured.end();
}

bool History::create_table(const std::string& table, const std::string& create, std::string_view doing)
{
  if (m_backend.columns(table)) {
    return false;
  }
  if (!m_schema.empty()) {
    m_backend.execute({fmt::format("CREATE SCHEMA IF NOT EXISTS {}", m_schema), {}},
                      fmt::format("cannot create the schema {} for housekeep's tables", m_schema));
  }
  try {
    m_backend.execute({create, {}}, doing);
  } catch (const Error&) {
    // Two processes creating it at once (daemons that start together): on PostgreSQL the
    // loser's CREATE TABLE IF NOT EXISTS fails on the catalog's unique index. Made by the
    // other is as good as made.
    if (m_backend.columns(table)) {
      return false;
    }
    throw;
  }
  return true;
}

void History::ensure_table(const std::string& table, std::string_view columns, const std::vector<std::string>& added)
{
  if (ensured(table)) {
    return;
  }
  create_table(table, fmt::format("CREATE TABLE IF NOT EXISTS {} ({})", table, columns),
               fmt::format("cannot create {}", table.substr(table.rfind('.') + 1)));
  if (!added.empty()) {
    add_missing_columns(table, added);
  }
  m_ensured.push_back(table);
}

void History::add_missing_columns(const std::string& table, const std::vector<std::string>& columns)
{
  const auto existing = m_backend.columns(table).value_or(std::vector<std::string>{});
  for (const auto& column : columns) {
    if (!has(existing, column.substr(0, column.find(' ')))) {
      m_backend.execute({fmt::format("ALTER TABLE {} ADD COLUMN {}", table, column), {}},
                        fmt::format("cannot add a column to {}", table));
    }
  }
}

void History::ensure_runs_table()
{
  if (ensured(m_runs)) {
    return;
  }
  const std::string doing = "cannot create housekeep_runs";
  create_table(m_runs,
               fmt::format("CREATE TABLE IF NOT EXISTS {} (id {}, job TEXT, task TEXT NOT NULL, "
                           "started_at TEXT NOT NULL, finished_at TEXT NOT NULL, status TEXT NOT NULL, "
                           "deleted TEXT NOT NULL DEFAULT '{{}}', error TEXT, host TEXT, pid BIGINT, dry_run "
                           "INTEGER NOT NULL DEFAULT 0, output TEXT, kept TEXT, trigger TEXT, stats TEXT)",
                           m_runs, m_backend.dialect().auto_id),
               doing);
  try {
    // Older tables lack it; a role that does not own the table leaves it to the owner.
    m_backend.execute({fmt::format("CREATE INDEX IF NOT EXISTS housekeep_runs_started ON {} (started_at)", m_runs), {}},
                      doing);
  } catch (const PermissionError&) {
  }
  // Added after the first release of the table: older tables get the columns on first write.
  add_missing_columns(m_runs, {"output TEXT", "kept TEXT", "trigger TEXT", "stats TEXT"});
  m_ensured.push_back(m_runs);
}

std::int64_t History::record_run(const RunRecord& run)
{
  ensure_runs_table();
  nlohmann::json kept = nlohmann::json::array();
  for (const auto& k : run.kept) {
    kept.push_back({{"table", k.table}, {"referenced_by", k.referenced_by}, {"through", k.through}, {"rows", k.rows}});
  }
  nlohmann::ordered_json stats = nlohmann::ordered_json::object();
  for (const auto& [name, value] : run.stats) {
    stats.emplace(name, value);
  }
  Sql sql;
  sql.binds = {run.job,
               run.task,
               format_utc(run.started_at),
               format_utc(run.finished_at),
               std::string(run_status_name(run.status)),
               nlohmann::json(run.deleted).dump(),
               text_or_null(run.error),
               run.host,
               run.pid,
               std::int64_t{run.dry_run ? 1 : 0},
               text_or_null(run.output),
               run.kept.empty() ? Value{} : Value{kept.dump()},
               text_or_null(run.trigger),
               run.stats.empty() ? Value{} : Value{stats.dump()}};
  const Dialect& dialect = m_backend.dialect();
  const std::string doing = "cannot record the run in housekeep_runs";
  if (run.id != 0) {
    std::vector<std::string> assignments;
    for (const auto column : k_run_columns) {
      assignments.push_back(fmt::format("{} = {}", column, dialect.placeholder(assignments.size() + 1)));
    }
    sql.text = fmt::format("UPDATE {} SET {} WHERE id = {}", m_runs, fmt::join(assignments, ", "),
                           dialect.placeholder(assignments.size() + 1));
    sql.binds.emplace_back(run.id);
    m_backend.execute(sql, doing);
    return run.id;
  }
  sql.text = fmt::format("INSERT INTO {} ({}) VALUES ({}) RETURNING id", m_runs, fmt::join(k_run_columns, ", "),
                         placeholders(dialect, 1, sql.binds.size()));
  std::int64_t id = 0;
  m_backend.query(
    sql, [&](const std::vector<std::string>&, const std::vector<Value>& values) { id = int_of(values.at(0)); }, doing);
  return id;
}

std::vector<RunRecord> History::runs(const RunQuery& query)
{
  std::vector<RunRecord> out;
  const auto existing = m_backend.columns(m_runs);
  if (!existing) {
    return out;
  }
  const Dialect& dialect = m_backend.dialect();
  // Tables written by older versions read as without the columns added since.
  const auto or_null = [&](std::string_view name) { return has(*existing, name) ? name : std::string_view("NULL"); };
  Sql sql{fmt::format("SELECT id, job, task, started_at, finished_at, status, deleted, error, host, pid, dry_run, {}, "
                      "{}, {}, {} FROM {}",
                      or_null("output"), or_null("kept"), or_null("trigger"), or_null("stats"), m_runs),
          {}};
  std::string_view joiner = " WHERE ";
  const std::string status = query.status ? std::string(run_status_name(*query.status)) : std::string();
  for (const auto& [column, value] :
       {std::pair{"task", &query.task}, std::pair{"job", &query.job}, std::pair{"status", &status}}) {
    if (!value->empty()) {
      sql.binds.emplace_back(*value);
      sql.text += fmt::format("{}{} = {}", joiner, column, dialect.placeholder(sql.binds.size()));
      joiner = " AND ";
    }
  }
  sql.binds.emplace_back(static_cast<std::int64_t>(query.limit));
  sql.text += fmt::format(" ORDER BY started_at DESC, id DESC LIMIT {}", dialect.placeholder(sql.binds.size()));
  m_backend.query(
    sql,
    [&](const std::vector<std::string>&, const std::vector<Value>& row) {
      RunRecord run;
      run.id = int_of(row[0]);
      run.job = text_of(row[1]);
      run.task = text_of(row[2]);
      run.started_at = parse_utc(text_of(row[3]));
      run.finished_at = parse_utc(text_of(row[4]));
      run.status = parse_run_status(text_of(row[5]));
      const auto deleted = nlohmann::json::parse(text_of(row[6]), nullptr, false);
      if (deleted.is_object()) {
        for (const auto& [table, rows] : deleted.items()) {
          if (rows.is_number_integer()) {
            run.deleted[table] = rows.get<std::int64_t>();
          }
        }
      }
      run.error = text_of(row[7]);
      run.host = text_of(row[8]);
      run.pid = int_of(row[9]);
      run.dry_run = int_of(row[10]) != 0;
      run.output = text_of(row[11]);
      const auto kept = nlohmann::json::parse(text_of(row[12]), nullptr, false);
      if (kept.is_array()) {
        for (const auto& k : kept) {
          if (k.is_object() && k.value("rows", nlohmann::json()).is_number_integer()) {
            run.kept.push_back({string_in(k, "table"), string_in(k, "referenced_by"), string_in(k, "through"),
                                k["rows"].get<std::int64_t>()});
          }
        }
      }
      run.trigger = text_of(row[13]);
      const auto stats = nlohmann::ordered_json::parse(text_of(row[14]), nullptr, false);
      if (stats.is_object()) {
        for (const auto& [name, value] : stats.items()) {
          if (value.is_number_integer()) {
            run.stats.emplace_back(name, value.get<std::int64_t>());
          }
        }
      }
      out.push_back(std::move(run));
    },
    "cannot read housekeep_runs");
  return out;
}

std::int64_t History::prune_runs(TimePoint before)
{
  if (!m_backend.columns(m_runs)) {
    return 0;
  }
  return m_backend.execute(
    {fmt::format("DELETE FROM {} WHERE started_at < {}", m_runs, m_backend.dialect().placeholder(1)),
     {format_utc(before)}},
    "cannot prune housekeep_runs");
}

void History::ensure_jobs_table()
{
  // Added after the first release of the table: older tables get the last three columns on
  // first write.
  ensure_table(m_jobs,
               "job TEXT PRIMARY KEY, schedule TEXT NOT NULL, timezone TEXT NOT NULL, last_fire TEXT, next_fire "
               "TEXT, last_status TEXT NOT NULL DEFAULT '', updated_at TEXT NOT NULL, first_due TEXT, missed BIGINT "
               "NOT NULL DEFAULT 0, last_missed TEXT",
               {"first_due TEXT", "missed BIGINT NOT NULL DEFAULT 0", "last_missed TEXT"});
}

std::vector<JobState> History::job_states()
{
  std::vector<JobState> out;
  const auto existing = m_backend.columns(m_jobs);
  if (!existing) {
    return out;
  }
  // Tables written by older versions lack the later columns: they read as never set.
  const bool counts = has(*existing, "missed");
  m_backend.query(
    {fmt::format("SELECT job, schedule, timezone, last_fire, next_fire, last_status, updated_at{} "
                 "FROM {} ORDER BY job",
                 counts ? ", first_due, missed, last_missed" : "", m_jobs),
     {}},
    [&](const std::vector<std::string>&, const std::vector<Value>& row) {
      JobState state;
      state.job = text_of(row[0]);
      state.schedule = text_of(row[1]);
      state.timezone = text_of(row[2]);
      state.last_fire = time_of(row[3]);
      state.next_fire = time_of(row[4]);
      state.last_status = text_of(row[5]);
      state.updated_at = parse_utc(text_of(row[6]));
      if (counts) {
        state.first_due = time_of(row[7]);
        state.missed = int_of(row[8]);
        state.last_missed = time_of(row[9]);
      }
      out.push_back(std::move(state));
    },
    "cannot read housekeep_jobs");
  return out;
}

void History::save_job_state(const JobState& state)
{
  ensure_jobs_table();
  const std::vector<std::string> columns{"job",         "schedule",   "timezone",  "last_fire", "next_fire",
                                         "last_status", "updated_at", "first_due", "missed",    "last_missed"};
  std::vector<std::string> updates;
  for (std::size_t i = 1; i < columns.size(); ++i) {
    updates.push_back(fmt::format("{0} = excluded.{0}", columns[i]));
  }
  m_backend.execute(
    {fmt::format("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (job) DO UPDATE SET {}", m_jobs, fmt::join(columns, ", "),
                 placeholders(m_backend.dialect(), 1, columns.size()), fmt::join(updates, ", ")),
     {state.job, state.schedule, state.timezone, time_or_null(state.last_fire), time_or_null(state.next_fire),
      state.last_status, format_utc(state.updated_at), time_or_null(state.first_due), state.missed,
      time_or_null(state.last_missed)}},
    "cannot record the job in housekeep_jobs");
}

void History::ensure_replicas_table()
{
  ensure_table(m_replicas, "instance TEXT PRIMARY KEY, pid BIGINT NOT NULL, host TEXT NOT NULL, started_at TEXT NOT "
                           "NULL, heartbeat_at TEXT NOT NULL, status TEXT NOT NULL, seen_ms BIGINT NOT NULL, "
                           "lease_until BIGINT NOT NULL");
}

std::vector<Replica> History::replicas()
{
  std::vector<Replica> out;
  if (!m_backend.columns(m_replicas)) {
    return out;
  }
  const std::string_view now = m_backend.dialect().now_ms;
  m_backend.query(
    {fmt::format("SELECT instance, pid, host, started_at, heartbeat_at, status, lease_until >= {0}, {0} - seen_ms "
                 "FROM {1} ORDER BY seen_ms DESC, instance",
                 now, m_replicas),
     {}},
    [&](const std::vector<std::string>&, const std::vector<Value>& row) {
      Replica r;
      r.instance = text_of(row[0]);
      r.pid = int_of(row[1]);
      r.host = text_of(row[2]);
      r.started_at = parse_utc(text_of(row[3]));
      r.heartbeat_at = parse_utc(text_of(row[4]));
      r.status = text_of(row[5]);
      r.live = int_of(row[6]) != 0;
      r.age = std::chrono::milliseconds(std::max<std::int64_t>(0, int_of(row[7])));
      out.push_back(std::move(r));
    },
    "cannot read housekeep_replicas");
  return out;
}

void History::save_replica(const Replica& replica, std::chrono::milliseconds lease)
{
  ensure_replicas_table();
  const Dialect& dialect = m_backend.dialect();
  std::vector<std::string> updates;
  for (const auto column : {"pid", "host", "started_at", "heartbeat_at", "status", "seen_ms", "lease_until"}) {
    updates.push_back(fmt::format("{0} = excluded.{0}", column));
  }
  m_backend.execute({fmt::format("INSERT INTO {} (instance, pid, host, started_at, heartbeat_at, status, seen_ms, "
                                 "lease_until) VALUES ({}, {}, {} + {}) ON CONFLICT (instance) DO UPDATE SET {}",
                                 m_replicas, placeholders(dialect, 1, 6), dialect.now_ms, dialect.now_ms,
                                 dialect.placeholder(7), fmt::join(updates, ", ")),
                     {replica.instance, replica.pid, replica.host, format_utc(replica.started_at),
                      format_utc(replica.heartbeat_at), replica.status, lease.count()}},
                    "cannot record the daemon's heartbeat in housekeep_replicas");
}

std::int64_t History::prune_replicas(const std::vector<std::string>& instances)
{
  if (!m_backend.columns(m_replicas)) {
    return 0;
  }
  const Dialect& dialect = m_backend.dialect();
  constexpr std::int64_t week_ms = 7LL * 24 * 3600 * 1000;
  Sql sql{fmt::format("DELETE FROM {} WHERE lease_until < {} - {}", m_replicas, dialect.now_ms, dialect.placeholder(1)),
          {week_ms}};
  if (!instances.empty()) {
    sql.text += fmt::format(" OR instance IN ({})", placeholders(dialect, 2, instances.size()));
    sql.binds.insert(sql.binds.end(), instances.begin(), instances.end());
  }
  return m_backend.execute(sql, "cannot prune housekeep_replicas");
}

void History::ensure_claims_table()
{
  ensure_table(m_claims,
               "job TEXT NOT NULL, slot TEXT NOT NULL, holder TEXT NOT NULL, host TEXT NOT NULL, pid BIGINT "
               "NOT NULL, claimed_ms BIGINT NOT NULL, lease_until BIGINT NOT NULL, finished_ms BIGINT, status "
               "TEXT NOT NULL, takeovers BIGINT NOT NULL DEFAULT 0, progress TEXT, PRIMARY KEY (job, slot)");
}

namespace {

// The columns claims are read by, then the lease left by the database's clock.
constexpr std::string_view k_claim_columns =
  "job, slot, holder, host, pid, status, finished_ms IS NOT NULL, takeovers, claimed_ms, progress";

SlotClaim claim_of(const std::vector<Value>& row)
{
  SlotClaim c;
  c.job = text_of(row[0]);
  c.slot = text_of(row[1]);
  c.holder = text_of(row[2]);
  c.host = text_of(row[3]);
  c.pid = int_of(row[4]);
  c.status = text_of(row[5]);
  c.finished = int_of(row[6]) != 0;
  c.takeovers = int_of(row[7]);
  c.claimed_at = TimePoint(std::chrono::milliseconds(int_of(row[8])));
  c.progress = text_of(row[9]);
  c.lease_left = std::chrono::milliseconds(std::max<std::int64_t>(0, int_of(row[10])));
  c.live = !c.finished && c.lease_left > std::chrono::milliseconds(0);
  return c;
}

} // namespace

std::optional<SlotClaim> History::read_claim(const std::string& job, const std::string& slot)
{
  const Dialect& dialect = m_backend.dialect();
  std::optional<SlotClaim> out;
  m_backend.query(
    {fmt::format("SELECT {}, lease_until - {} FROM {} WHERE job = {} AND slot = {}", k_claim_columns, dialect.now_ms,
                 m_claims, dialect.placeholder(1), dialect.placeholder(2)),
     {job, slot}},
    [&](const std::vector<std::string>&, const std::vector<Value>& row) { out = claim_of(row); },
    "cannot read housekeep_claims");
  return out;
}

ClaimAttempt History::claim_slot(const SlotClaim& claim, std::chrono::milliseconds lease)
{
  ensure_claims_table();
  const Dialect& dialect = m_backend.dialect();
  const std::string_view now = dialect.now_ms;
  const auto p = [&](std::size_t n) { return dialect.placeholder(n); };
  ClaimAttempt attempt;
  // Read first only to say whom a takeover took the slot from; the statement decides.
  std::optional<SlotClaim> before = read_claim(claim.job, claim.slot);
  // One statement: a fresh slot goes in unless another slot of the job is live; a claimed
  // one is taken over only when unfinished and its lease ran out. Both by the database's
  // clock, so hosts whose clocks disagree agree on the outcome; on a server the conflicting
  // row is locked and its condition checked again on the row as committed.
  bool won = false;
  m_backend.query(
    {fmt::format("INSERT INTO {0} AS c (job, slot, holder, host, pid, claimed_ms, lease_until, status, takeovers) "
                 "SELECT CAST({1} AS TEXT), CAST({2} AS TEXT), CAST({3} AS TEXT), CAST({4} AS TEXT), "
                 "CAST({5} AS BIGINT), {6}, {6} + CAST({7} AS BIGINT), 'running', 0 "
                 "WHERE NOT EXISTS (SELECT 1 FROM {0} o WHERE o.job = {8} AND o.slot <> {9} AND o.finished_ms IS "
                 "NULL AND o.lease_until >= {6}) "
                 "ON CONFLICT (job, slot) DO UPDATE SET holder = excluded.holder, host = excluded.host, pid = "
                 "excluded.pid, claimed_ms = excluded.claimed_ms, lease_until = excluded.lease_until, status = "
                 "'running', takeovers = c.takeovers + 1 WHERE c.finished_ms IS NULL AND c.lease_until < "
                 "excluded.claimed_ms RETURNING holder",
                 m_claims, p(1), p(2), p(3), p(4), p(5), now, p(6), p(7), p(8)),
     {claim.job, claim.slot, claim.holder, claim.host, claim.pid, lease.count(), claim.job, claim.slot}},
    [&](const std::vector<std::string>&, const std::vector<Value>& row) { won = text_of(row.at(0)) == claim.holder; },
    "cannot claim the slot in housekeep_claims");
  attempt.won = won;
  if (won) {
    if (before && before->holder != claim.holder) {
      attempt.other = before;
    }
    return attempt;
  }
  attempt.other = read_claim(claim.job, claim.slot);
  attempt.overlaps = !attempt.other || (!attempt.other->live && !attempt.other->finished);
  if (attempt.overlaps) {
    for (SlotClaim& live : claims(claim.job, 1, true)) {
      if (live.slot != claim.slot) {
        attempt.blocker = std::move(live);
      }
    }
  }
  return attempt;
}

bool History::claim_missed_slot(const SlotClaim& claim)
{
  ensure_claims_table();
  const Dialect& dialect = m_backend.dialect();
  const auto p = [&](std::size_t n) { return dialect.placeholder(n); };
  return m_backend.execute(
           {fmt::format(
              "INSERT INTO {0} (job, slot, holder, host, pid, claimed_ms, lease_until, finished_ms, status, "
              "takeovers) VALUES ({1}, {2}, {3}, {4}, {5}, {6}, {6}, {6}, 'missed', 0) ON CONFLICT (job, slot) "
              "DO NOTHING",
              m_claims, p(1), p(2), p(3), p(4), p(5), dialect.now_ms),
            {claim.job, claim.slot, claim.holder, claim.host, claim.pid}},
           "cannot record the missed slot in housekeep_claims") == 1;
}

bool History::renew_claim(const SlotClaim& claim, std::chrono::milliseconds lease, const std::string& progress)
{
  const Dialect& dialect = m_backend.dialect();
  const auto p = [&](std::size_t n) { return dialect.placeholder(n); };
  return m_backend.execute({fmt::format("UPDATE {} SET lease_until = {} + {}, progress = COALESCE({}, progress) WHERE "
                                        "job = {} AND slot = {} AND holder = {} AND finished_ms IS NULL",
                                        m_claims, dialect.now_ms, p(1), p(2), p(3), p(4), p(5)),
                            {lease.count(), text_or_null(progress), claim.job, claim.slot, claim.holder}},
                           "cannot renew the claim in housekeep_claims") == 1;
}

void History::finish_claim(const SlotClaim& claim, std::string_view status)
{
  const Dialect& dialect = m_backend.dialect();
  m_backend.execute({fmt::format("UPDATE {} SET finished_ms = {}, status = {} WHERE job = {} AND slot = {} AND "
                                 "holder = {}",
                                 m_claims, dialect.now_ms, dialect.placeholder(1), dialect.placeholder(2),
                                 dialect.placeholder(3), dialect.placeholder(4)),
                     {std::string(status), claim.job, claim.slot, claim.holder}},
                    "cannot record the end of the claim in housekeep_claims");
}

std::vector<SlotClaim> History::claims(const std::string& job, std::size_t limit, bool live_only)
{
  std::vector<SlotClaim> out;
  if (!m_backend.columns(m_claims)) {
    return out;
  }
  const Dialect& dialect = m_backend.dialect();
  Sql sql{fmt::format("SELECT {}, lease_until - {} FROM {} WHERE {}", k_claim_columns, dialect.now_ms, m_claims,
                      live_only ? fmt::format("finished_ms IS NULL AND lease_until >= {}", dialect.now_ms)
                                : std::string(dialect.always)),
          {}};
  if (!job.empty()) {
    sql.binds.emplace_back(job);
    sql.text += fmt::format(" AND job = {}", dialect.placeholder(1));
  }
  sql.binds.emplace_back(static_cast<std::int64_t>(limit));
  sql.text += fmt::format(" ORDER BY claimed_ms DESC, slot DESC LIMIT {}", dialect.placeholder(sql.binds.size()));
  m_backend.query(
    sql, [&](const std::vector<std::string>&, const std::vector<Value>& row) { out.push_back(claim_of(row)); },
    "cannot read housekeep_claims");
  return out;
}

} // namespace housekeep
