// The configuration: built-in defaults (the classic chat schema and schedule of SPEC §4),
// optionally overridden by a TOML file. Loading validates everything, so the rest of the
// program only ever sees a valid Config.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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
};

struct DefaultsConfig {
  std::int64_t batch_size = 50000; // rows of the walked table per write transaction, at most
  Millis batch_time{50};           // shrink batches to hold the write lock about this long; 0: off
  Millis sleep{25};                // between batches, so the application's writers get in
  std::string timezone = "UTC";
  Millis misfire_grace{std::chrono::hours(1)};
  Millis history_keep{std::chrono::hours(24 * 90)};
  std::int64_t max_delete = 0; // refuse a run that would delete more rows; 0: no limit
  std::string on_failure;      // shell command run after a run that did not end ok
  std::string on_success;      // shell command run after a run that ended ok
  Millis hook_timeout{std::chrono::seconds(30)};
};

/// [tasks.conversations]: rows older than `older_than`, with their children.
struct ConversationsConfig {
  std::string table = "conversations";
  std::string id_column = "id";
  std::string time_column = "created_at";
  TimeFormat time_format = TimeFormat::auto_detect;
  Millis older_than{std::chrono::hours(24 * 30)};
  std::vector<ChildConfig> children{{"messages", "conversation_id", "id"}};
  OnReferenced referenced = OnReferenced::keep;
  bool allow_empty = false; // the policy may take every row of the table (waives the guard)
};

/// [tasks.messages]: rows whose parent reference is NULL or dangling.
struct MessagesConfig {
  std::string table = "messages";
  std::string id_column = "id";
  std::string foreign_key = "conversation_id";
  std::string parent = "conversations";
  std::string parent_id_column = "id";
  std::string time_column = "created_at"; // read by stats for the recent window
  TimeFormat time_format = TimeFormat::auto_detect;
  std::vector<ChildConfig> children;
  OnReferenced referenced = OnReferenced::keep;
  bool allow_empty = false; // the policy may take every row of the table (waives the guard)
};

/// [tasks.users]: never-activated accounts older than `older_than`, and what they own.
struct UsersConfig {
  std::string table = "users";
  std::string id_column = "id";
  std::string time_column = "date_joined";
  TimeFormat time_format = TimeFormat::auto_detect;
  std::string active_column = "is_active";
  Millis older_than{std::chrono::hours(24 * 7)};
  std::vector<ChildConfig> children{{"conversations", "user_id", "id"}};
  OnReferenced referenced = OnReferenced::keep;
  bool allow_empty = false; // the policy may take every row of the table (waives the guard)
};

/// [tasks.stats]: counts, and the size of the "recent" window.
struct StatsConfig {
  Millis recent{std::chrono::hours(24)};
  std::string recent_text = "24h"; // as written: the stats keys name the window so (SPEC §8)
};

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
};

/// A task defined in the configuration, [tasks.NAME] with a `kind`; a section named after a
/// kind ([tasks.expired]) needs no `kind` key. Only the members of its kind apply.
struct CustomTask {
  std::string name;
  std::string kind; // "expired", "exec", "files", "backup" or "vacuum"

  // expired: rows whose expiry lies in the past, with their children.
  std::string table;
  std::string id_column = "id";
  std::string expires_column = "expires_at";
  TimeFormat time_format = TimeFormat::auto_detect;
  std::vector<ChildConfig> children;
  OnReferenced referenced = OnReferenced::keep;
  bool allow_empty = false; // the policy may take every row of the table (waives the guard)

  // exec: a command run with a timeout.
  std::vector<std::string> command; // argv; with shell = true, one shell command line
  bool shell = false;
  Millis timeout{std::chrono::minutes(10)};
  std::vector<std::string> env;         // variables passed through (besides PATH, HOME, LANG, TZ)
  std::vector<std::string> only_if_env; // skipped (exit 0, a notice) unless all of these are set

  // files: regular files under `directory` older than `older_than`, matching `glob`.
  std::string directory; // absolute, not "/"
  std::string glob;      // on the file name; empty: every file
  Millis older_than{0};

  // backup: a copy of the database into `directory` (as for files), then retention.
  std::int64_t keep_days = 30; // backups older than this go...
  std::int64_t keep_last = 7;  // ...except the newest keep_last, whatever their age

  // vacuum: "optimize", "incremental" or "full".
  std::string mode = "optimize";
};

/// The whole configuration.
struct Config {
  std::string source = "built-in defaults"; // the file it came from, for messages
  DatabaseConfig database;
  DefaultsConfig defaults;
  ConversationsConfig conversations;
  MessagesConfig messages;
  UsersConfig users;
  StatsConfig stats;
  std::vector<CustomTask> custom_tasks;
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

} // namespace housekeep
