// The configuration: built-in defaults (the classic chat schema and schedule of SPEC §4),
// optionally overridden by a TOML file. Loading validates everything, so the rest of the
// program only ever sees a valid Config.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace housekeep {

using Millis = std::chrono::milliseconds;

/// How a time column stores its instants.
enum class TimeFormat { auto_detect, iso8601, unix_seconds, unix_millis };

/// The configuration spelling of a time format ("auto", "iso8601", "unix", "unix_ms").
std::string_view time_format_name(TimeFormat format);

/// What a purge does with rows still referenced from outside its cascade (`referenced`).
enum class OnReferenced { keep, fail };

/// What a job does about firings missed while no daemon ran (`catch_up`): one run for all of
/// them if the newest is within misfire_grace, or none.
enum class CatchUp { once, skip };

/// The configuration spelling of a catch-up policy ("once", "skip").
std::string_view catch_up_name(CatchUp policy);

/// A table deleted together with its parent: rows whose `foreign_key` names a deleted parent.
struct ChildConfig {
  std::string table;
  std::string foreign_key;
  std::string id_column = "id"; // the child's own key, used when it has children of its own
};

struct DatabaseConfig {
  std::string url; // empty: not set in the file
  Millis busy_timeout{5000};
  Millis statement_timeout{60000};   // a write statement running longer is cancelled (servers); 0: off
  std::string history_schema;        // of housekeep's own tables (PostgreSQL); empty: search_path's first
  Millis max_replication_lag{30000}; // a purge pauses while a standby is further behind; 0: off
  Millis lease{60000};               // a dead process's lock or claimed slot is taken over after this
};

struct DefaultsConfig {
  std::int64_t batch_size = 50000;  // rows of the walked table per write transaction, at most
  std::optional<Millis> batch_time; // hold each write transaction about this long; 0: off; unset: the engine's
  std::optional<Millis> sleep;      // between batches; unset: the engine's (StoreTraits::pause)
  std::string timezone = "UTC";
  Millis misfire_grace{std::chrono::hours(1)};
  Millis jitter{0}; // each job runs this much at most after its slot, by a stable offset of its own
  Millis history_keep{std::chrono::hours(24 * 90)};
  std::int64_t max_delete = 0; // refuse a run that would delete more rows; 0: no limit
  std::string on_failure;      // shell command run after a run that did not end ok
  std::string on_success;      // shell command run after a run that ended ok
  Millis hook_timeout{std::chrono::seconds(30)};
};

/// A duration as the file wrote it ("24h") and its length: keys that name a window use the
/// text as written (the stats keys, SPEC §8).
struct Duration {
  Millis value{0};
  std::string text;
  bool operator==(const Duration&) const = default;
};

/// The value of one key of a task.
using Setting = std::variant<std::string, bool, std::int64_t, Duration, TimeFormat, OnReferenced,
                             std::vector<std::string>, std::vector<ChildConfig>>;

/// One task, [tasks.NAME]: its kind and every key of that kind (defaults filled in, then what
/// the file set). The keys a kind has, their types and defaults are declared with the kind
/// (task_kinds()); the built-in tasks are rows of their kinds with their own defaults.
struct TaskConfig {
  std::string name;
  std::string kind;
  std::map<std::string, Setting, std::less<>> settings;

  /// The value of `key` as its type; InternalError when the kind has no such key.
  const std::string& text(std::string_view key) const { return get<std::string>(key); }
  bool flag(std::string_view key) const { return get<bool>(key); }
  std::int64_t integer(std::string_view key) const { return get<std::int64_t>(key); }
  Millis duration(std::string_view key) const { return get<Duration>(key).value; }
  const std::string& duration_text(std::string_view key) const { return get<Duration>(key).text; }
  const std::vector<std::string>& strings(std::string_view key) const { return get<std::vector<std::string>>(key); }
  TimeFormat time_format() const { return get<TimeFormat>("time_format"); }
  OnReferenced referenced() const { return get<OnReferenced>("referenced"); }
  /// The children of a purge (empty for a kind without them).
  const std::vector<ChildConfig>& children() const;
  /// The table a purge deletes from (empty for a kind without one).
  const std::string& table() const;
  bool has(std::string_view key) const { return settings.find(key) != settings.end(); }
  /// Sets a key of the kind; InternalError when it has no such key.
  TaskConfig& set(std::string_view key, Setting value);

  template <typename T>
  const T& get(std::string_view key) const
  {
    const auto found = settings.find(key);
    const T* value = found == settings.end() ? nullptr : std::get_if<T>(&found->second);
    if (value == nullptr) {
      missing_setting(key);
    }
    return *value;
  }

private:
  [[noreturn]] void missing_setting(std::string_view key) const;
};

/// The built-in tasks (conversations, messages, users, stats), as rows of their kinds.
std::vector<TaskConfig> default_tasks();

/// True for the name of a built-in task.
bool is_builtin_task(std::string_view name);

/// [jobs.NAME]: a task on a schedule.
struct JobConfig {
  std::string name;
  std::string task;
  std::string schedule;
  std::string timezone; // empty: defaults.timezone
  std::optional<Millis> misfire_grace;
  CatchUp catch_up = CatchUp::once; // after downtime
  bool enabled = true;
  std::optional<Millis> timeout;         // stop a run after the batch during which this passed
  std::int64_t retries = 3;              // retries of a transient failure (busy, unreachable)
  std::optional<std::string> on_failure; // unset: defaults.on_failure
  std::optional<std::string> on_success; // unset: defaults.on_success
  bool allow_empty = false;              // its runs may take every row of a table (waives the guard)
  std::optional<Millis> jitter;          // unset: defaults.jitter
};

/// The whole configuration.
/// The daemon's HTTP endpoint ([http]).
struct HttpConfig {
  std::string listen;     // "127.0.0.1:8080"; empty: off (daemon --listen turns it on)
  std::string token_file; // a file holding the token; empty: none (loopback only, no triggers)
};

struct Config {
  std::string source = "built-in defaults"; // the file it came from, for messages
  DatabaseConfig database;
  DefaultsConfig defaults;
  HttpConfig http;
  /// Every task: the built-in ones, then those the file defines, in file order.
  std::vector<TaskConfig> tasks = default_tasks();
  /// What `all` runs, in order ([tasks] all = [...]).
  std::vector<std::string> all{"conversations", "messages", "users", "stats"};
  std::vector<JobConfig> jobs{
    {"daily_housekeeping", "all", "0 2 * * *", "", std::nullopt, CatchUp::once, true},
    {"weekly_cleanup", "conversations", "0 3 * * sun", "", std::nullopt, CatchUp::once, true},
    {"statistics", "stats", "@every 6h", "", std::nullopt, CatchUp::once, true},
  };
};

/// Parses TOML text over the built-in defaults; `source` names the file in messages.
/// Throws ConfigError ("FILE:LINE:COL: ...") on bad TOML, unknown keys, wrong types,
/// bad durations, unsafe identifiers or unknown task names.
Config parse_config(std::string_view toml_text, const std::string& source);

/// Reads and parses a configuration file; NotFoundError when it does not exist,
/// PermissionError when it cannot be read.
Config load_config_file(const std::string& path);

/// The effective configuration written back as TOML, every key spelled out.
std::string config_to_toml(const Config& config);

/// The task called `name`, or null.
const TaskConfig* find_task(const Config& config, std::string_view name);

/// The built-in task `name` (conversations, messages, users, stats), which every
/// configuration has.
const TaskConfig& builtin_task(const Config& config, std::string_view name);
TaskConfig& builtin_task(Config& config, std::string_view name);

} // namespace housekeep
