#include "housekeep/config.hpp"
#include "housekeep/http.hpp"

#include "housekeep/duration.hpp"
#include "housekeep/error.hpp"
#include "housekeep/schedule.hpp"
#include "housekeep/store.hpp"
#include "housekeep/task.hpp"
#include "housekeep/task_kind.hpp"
#include "housekeep/text.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

namespace housekeep {

std::string_view time_format_name(TimeFormat format)
{
  switch (format) {
  case TimeFormat::auto_detect: return "auto";
  case TimeFormat::iso8601: return "iso8601";
  case TimeFormat::unix_seconds: return "unix";
  case TimeFormat::unix_millis: return "unix_ms";
  }
  return "auto";
}

namespace {

using Keys = std::initializer_list<std::string_view>;

// Reads one TOML document, reporting every problem as FILE:LINE:COL.
class Reader {
public:
  explicit Reader(std::string source) : m_source(std::move(source)) {}

  [[noreturn]] void fail(const toml::source_region& where, const std::string& message, std::string hint = {}) const
  {
    throw ConfigError(fmt::format("{}:{}:{}: {}", m_source, where.begin.line, where.begin.column, message),
                      std::move(hint));
  }

  void check_keys(const toml::table& table, std::string_view section, Keys allowed) const
  {
    check_keys(table, section, std::vector<std::string_view>(allowed));
  }

  void check_keys(const toml::table& table, std::string_view section, const std::vector<std::string_view>& names) const
  {
    for (auto&& [key, value] : table) {
      const std::string_view name = key.str();
      if (std::find(names.begin(), names.end(), name) != names.end()) {
        continue;
      }
      const std::string guess = closest_match(name, names);
      fail(key.source(), fmt::format("unknown key '{}' in [{}]", name, section),
           guess.empty() ? fmt::format("valid keys: {}", fmt::join(names, ", "))
                         : fmt::format("did you mean '{}'?", guess));
    }
  }

  const toml::table* table(const toml::table& parent, std::string_view key, std::string_view section) const
  {
    const toml::node* node = parent.get(key);
    if (node == nullptr) {
      return nullptr;
    }
    if (!node->is_table()) {
      fail(node->source(), fmt::format("{}.{} must be a table", section, key));
    }
    return node->as_table();
  }

  bool string(const toml::table& t, std::string_view key, std::string_view section, std::string& out) const
  {
    const toml::node* node = t.get(key);
    if (node == nullptr) {
      return false;
    }
    if (!node->is_string()) {
      fail(node->source(), fmt::format("{}.{} must be a string", section, key));
    }
    out = node->as_string()->get();
    return true;
  }

  void identifier(const toml::table& t, std::string_view key, std::string_view section, std::string& out) const
  {
    std::string value;
    if (!string(t, key, section, value)) {
      return;
    }
    if (!is_safe_identifier(value)) {
      fail(t.get(key)->source(), fmt::format("{}.{}: '{}' is not a safe SQL identifier", section, key, value),
           "names must match [A-Za-z_][A-Za-z0-9_]* (optionally schema.name)");
    }
    out = std::move(value);
  }

  void duration(const toml::table& t, std::string_view key, std::string_view section, Millis& out) const
  {
    std::string text;
    if (!string(t, key, section, text)) {
      return;
    }
    try {
      out = parse_duration(text);
    } catch (const UsageError& e) {
      fail(t.get(key)->source(), fmt::format("{}.{}: {}", section, key, e.what()), e.hint());
    }
  }

  void optional_duration(const toml::table& t, std::string_view key, std::string_view section,
                         std::optional<Millis>& out) const
  {
    if (t.get(key) != nullptr) {
      Millis value{};
      duration(t, key, section, value);
      out = value;
    }
  }

  void integer(const toml::table& t, std::string_view key, std::string_view section, std::int64_t& out,
               std::int64_t min, std::int64_t max) const
  {
    const toml::node* node = t.get(key);
    if (node == nullptr) {
      return;
    }
    if (!node->is_integer()) {
      fail(node->source(), fmt::format("{}.{} must be an integer", section, key));
    }
    const std::int64_t value = node->as_integer()->get();
    if (value < min || value > max) {
      fail(node->source(), fmt::format("{}.{}: {} is out of range {}-{}", section, key, value, min, max));
    }
    out = value;
  }

  void boolean(const toml::table& t, std::string_view key, std::string_view section, bool& out) const
  {
    const toml::node* node = t.get(key);
    if (node == nullptr) {
      return;
    }
    if (!node->is_boolean()) {
      fail(node->source(), fmt::format("{}.{} must be true or false", section, key));
    }
    out = node->as_boolean()->get();
  }

  void strings(const toml::table& t, std::string_view key, std::string_view section,
               std::vector<std::string>& out) const
  {
    const toml::node* node = t.get(key);
    if (node == nullptr) {
      return;
    }
    const toml::array* array = node->as_array();
    if (array == nullptr) {
      fail(node->source(), fmt::format("{}.{} must be an array of strings", section, key));
    }
    out.clear();
    for (const auto& item : *array) {
      if (!item.is_string()) {
        fail(item.source(), fmt::format("{}.{} must be an array of strings", section, key));
      }
      out.push_back(item.as_string()->get());
    }
  }

  void time_format(const toml::table& t, std::string_view section, TimeFormat& out) const
  {
    std::string text;
    if (!string(t, "time_format", section, text)) {
      return;
    }
    for (auto format :
         {TimeFormat::auto_detect, TimeFormat::iso8601, TimeFormat::unix_seconds, TimeFormat::unix_millis}) {
      if (time_format_name(format) == text) {
        out = format;
        return;
      }
    }
    fail(t.get("time_format")->source(), fmt::format("{}.time_format: unknown format '{}'", section, text),
         "use one of: auto, iso8601, unix, unix_ms");
  }

  void referenced(const toml::table& t, std::string_view section, OnReferenced& out) const
  {
    std::string text;
    if (!string(t, "referenced", section, text)) {
      return;
    }
    if (text != "keep" && text != "fail") {
      fail(t.get("referenced")->source(), fmt::format("{}.referenced: unknown value '{}'", section, text),
           "use \"keep\" (leave rows other tables still reference) or \"fail\" (stop the task)");
    }
    out = text == "keep" ? OnReferenced::keep : OnReferenced::fail;
  }

  void children(const toml::table& t, std::string_view section, std::vector<ChildConfig>& out) const
  {
    const toml::node* node = t.get("children");
    if (node == nullptr) {
      return;
    }
    const toml::array* array = node->as_array();
    if (array == nullptr) {
      fail(node->source(), fmt::format("{}.children must be an array of tables", section),
           "children = [ { table = \"messages\", foreign_key = \"conversation_id\" } ]");
    }
    out.clear();
    for (const toml::node& element : *array) {
      const toml::table* child = element.as_table();
      if (child == nullptr) {
        fail(element.source(), fmt::format("{}.children: each entry must be a table", section));
      }
      const std::string child_section = fmt::format("{}.children", section);
      check_keys(*child, child_section, {"table", "foreign_key", "id_column"});
      ChildConfig config{"", "", "id"};
      identifier(*child, "table", child_section, config.table);
      identifier(*child, "foreign_key", child_section, config.foreign_key);
      identifier(*child, "id_column", child_section, config.id_column);
      if (config.table.empty() || config.foreign_key.empty()) {
        fail(element.source(), fmt::format("{}: each child needs 'table' and 'foreign_key'", child_section));
      }
      out.push_back(std::move(config));
    }
  }

  void zone(const toml::table& t, std::string_view key, std::string_view section) const
  {
    const std::string name = t.get(key)->as_string()->get();
    try {
      find_zone(name);
    } catch (const UsageError& e) {
      fail(t.get(key)->source(), fmt::format("{}.{}: {}", section, key, e.what()), e.hint());
    }
  }

  const std::string& source() const { return m_source; }

private:
  std::string m_source;
};

void read_database(const Reader& r, const toml::table& t, DatabaseConfig& out)
{
  r.check_keys(t, "database",
               {"url", "busy_timeout", "statement_timeout", "history_schema", "max_replication_lag", "lease"});
  if (r.string(t, "url", "database", out.url) && out.url.empty()) {
    // An empty URL is a mistake (an unset template variable), never "use the default file".
    r.fail(t.get("url")->source(), "database.url is empty",
           fmt::format("name the database ({}), or remove the key to use the default", database_url_forms()));
  }
  if (!out.url.empty()) {
    // A wrong scheme or parameter is a mistake in this file: say where.
    try {
      parse_database_url(out.url);
    } catch (const UsageError& e) {
      r.fail(t.get("url")->source(), fmt::format("database.url: {}", e.what()), e.hint());
    }
  }
  if (r.string(t, "history_schema", "database", out.history_schema) &&
      (!is_safe_identifier(out.history_schema) || out.history_schema.find('.') != std::string::npos ||
       std::any_of(out.history_schema.begin(), out.history_schema.end(),
                   [](char c) { return c >= 'A' && c <= 'Z'; }))) {
    r.fail(t.get("history_schema")->source(),
           fmt::format("database.history_schema: '{}' is not a schema name", out.history_schema),
           "a schema is [a-z_][a-z0-9_]*, e.g. history_schema = \"housekeep\"");
  }
  r.duration(t, "max_replication_lag", "database", out.max_replication_lag);
  r.duration(t, "lease", "database", out.lease);
  if (t.contains("lease") && (out.lease < std::chrono::seconds(2) || out.lease > std::chrono::hours(1))) {
    r.fail(t.get("lease")->source(), fmt::format("database.lease: {} is out of range", format_duration(out.lease)),
           "between 2s and 1h; the default, 60s, suits most; a holder renews it every quarter of it");
  }
  // Engines count these waits in an int of milliseconds (a busy timeout, a lock or statement
  // timeout): longer would wrap to no wait.
  for (const auto& [key, value] :
       {std::pair{"busy_timeout", &out.busy_timeout}, std::pair{"statement_timeout", &out.statement_timeout}}) {
    r.duration(t, key, "database", *value);
    if (*value > Millis{std::numeric_limits<int>::max()}) {
      r.fail(t.get(key)->source(), fmt::format("database.{}: {} is too long", key, format_duration(*value)),
             "at most 24d (the engines' limit); minutes are usual");
    }
  }
}

void read_defaults(const Reader& r, const toml::table& t, DefaultsConfig& out)
{
  r.check_keys(t, "defaults",
               {"batch_size", "batch_time", "sleep", "timezone", "misfire_grace", "jitter", "history_keep",
                "max_delete", "on_failure", "on_success", "hook_timeout"});
  r.integer(t, "batch_size", "defaults", out.batch_size, 1, k_max_batch_size);
  if (Millis batch_time{}; t.contains("batch_time")) {
    r.duration(t, "batch_time", "defaults", batch_time);
    out.batch_time = batch_time;
  }
  if (Millis sleep{}; t.contains("sleep")) {
    r.duration(t, "sleep", "defaults", sleep);
    out.sleep = sleep;
  }
  if (r.string(t, "timezone", "defaults", out.timezone)) {
    r.zone(t, "timezone", "defaults");
  }
  r.duration(t, "misfire_grace", "defaults", out.misfire_grace);
  r.duration(t, "jitter", "defaults", out.jitter);
  r.duration(t, "history_keep", "defaults", out.history_keep);
  r.integer(t, "max_delete", "defaults", out.max_delete, 0, std::numeric_limits<std::int64_t>::max());
  r.string(t, "on_failure", "defaults", out.on_failure);
  r.string(t, "on_success", "defaults", out.on_success);
  r.duration(t, "hook_timeout", "defaults", out.hook_timeout);
}

// The entries of a table in the order the file wrote them (toml++ iterates keys sorted):
// jobs and configured tasks run in that order.
std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(const toml::table& table)
{
  std::vector<std::pair<const toml::key*, const toml::node*>> ordered;
  for (auto&& [key, node] : table) {
    ordered.emplace_back(&key, &node);
  }
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
    const auto& x = a.first->source().begin;
    const auto& y = b.first->source().begin;
    return x.line != y.line ? x.line < y.line : x.column < y.column;
  });
  return ordered;
}

// "needs a 'table'", "needs an 'older_than'".
std::string article(std::string_view key)
{
  return std::string_view("aeiou").find(key.front()) != std::string_view::npos ? "an" : "a";
}

// One key of a task, read by its kind's declaration into the task's settings.
void read_key(const Reader& r, const toml::table& t, std::string_view section, const KeySpec& key, TaskConfig& task)
{
  const toml::node* node = t.get(key.name);
  Setting& value = task.settings.at(key.name);
  const toml::node& where = node != nullptr ? *node : static_cast<const toml::node&>(t);
  switch (key.type) {
  case KeyType::text:
  case KeyType::identifier:
  case KeyType::zone:
  case KeyType::directory: {
    auto& text = std::get<std::string>(value);
    if (key.type == KeyType::identifier) {
      r.identifier(t, key.name, section, text);
    } else if (r.string(t, key.name, section, text) && key.type == KeyType::zone && !text.empty()) {
      r.zone(t, key.name, section);
    }
    if (key.type == KeyType::directory && !text.empty()) {
      std::string trimmed = text;
      while (trimmed.size() > 1 && trimmed.back() == '/') {
        trimmed.pop_back();
      }
      if (trimmed.front() != '/' || trimmed == "/") {
        r.fail(where.source(),
               fmt::format("{}.{}: '{}' must be an absolute path other than /", section, key.name, text),
               "name the directory whose old files go, e.g. \"/var/lib/myapp/uploads\"");
      }
      text = trimmed;
    }
    if (!key.choices.empty() && std::find(key.choices.begin(), key.choices.end(), text) == key.choices.end()) {
      std::vector<std::string> quoted;
      for (const auto& choice : key.choices) {
        quoted.push_back(fmt::format("\"{}\"", choice));
      }
      const std::string last = quoted.back();
      quoted.pop_back();
      r.fail(where.source(), fmt::format("{}.{}: unknown {} '{}'", section, key.name, key.name, text),
             fmt::format("use {} or {}", fmt::join(quoted, ", "), last));
    }
    if (key.required && text.empty()) {
      r.fail(where.source(), fmt::format("[{}] needs {} '{}'", section, article(key.name), key.name));
    }
    break;
  }
  case KeyType::boolean: r.boolean(t, key.name, section, std::get<bool>(value)); break;
  case KeyType::integer: r.integer(t, key.name, section, std::get<std::int64_t>(value), key.min, key.max); break;
  case KeyType::duration: {
    auto& duration = std::get<Duration>(value);
    if (node != nullptr) {
      r.duration(t, key.name, section, duration.value);
      duration.text = node->as_string()->get();
    }
    if (key.required && duration.value.count() <= 0) {
      r.fail(where.source(), fmt::format("[{}] needs {} '{}' above 0", section, article(key.name), key.name));
    }
    if (key.min > 0 && duration.value.count() <= 0) {
      r.fail(where.source(), fmt::format("{}.{}: must be more than 0", section, key.name));
    }
    break;
  }
  case KeyType::time_format: r.time_format(t, section, std::get<TimeFormat>(value)); break;
  case KeyType::referenced: r.referenced(t, section, std::get<OnReferenced>(value)); break;
  case KeyType::strings: r.strings(t, key.name, section, std::get<std::vector<std::string>>(value)); break;
  case KeyType::children: r.children(t, section, std::get<std::vector<ChildConfig>>(value)); break;
  case KeyType::command: {
    auto& command = std::get<std::vector<std::string>>(value);
    if (node != nullptr && node->is_string()) {
      const toml::node* shell = t.get("shell");
      if (shell == nullptr || !shell->is_boolean() || !shell->as_boolean()->get()) {
        r.fail(node->source(),
               fmt::format("{}.{} is one string: it runs through /bin/sh only with shell = true", section, key.name),
               "set shell = true, or give the program and its arguments as an array");
      }
      command = {node->as_string()->get()};
    } else {
      r.strings(t, key.name, section, command);
    }
    if (key.required && (command.empty() || command.front().empty())) {
      r.fail(where.source(), fmt::format("{}.{}: needs a program to run", section, key.name),
             "command = [\"/usr/local/bin/upload-backup\", \"--bucket\", \"nightly\"]");
    }
    break;
  }
  }
}

// [tasks.NAME]: a built-in task's section changes its keys; any other names a task of a
// kind (`kind`, or the section's name when that is a kind).
void read_task(const Reader& r, const toml::key& name_key, const toml::table& t, Config& out)
{
  const std::string name(name_key.str());
  const std::string section = fmt::format("tasks.{}", name);
  const toml::node* kind_node = t.get("kind");
  std::string kind_name;
  r.string(t, "kind", section, kind_name);
  TaskConfig* builtin = nullptr;
  for (auto& task : out.tasks) {
    if (task.name == name && is_builtin_task(name)) {
      builtin = &task;
    }
  }
  if (builtin != nullptr && kind_node != nullptr && kind_name != builtin->kind) {
    r.fail(kind_node->source(),
           fmt::format("{}.kind: '{}' is a built-in task of kind '{}'", section, name, builtin->kind),
           "give your own task another name");
  }
  if (builtin == nullptr && kind_node == nullptr) {
    kind_name = name;
  }
  const TaskKind* kind = find_kind(builtin != nullptr ? builtin->kind : kind_name);
  if (kind == nullptr) {
    std::vector<std::string_view> kinds;
    for (const TaskKind* k : task_kinds()) {
      kinds.push_back(k->name);
    }
    const std::string guess = closest_match(kind_name, kinds);
    r.fail(kind_node != nullptr ? kind_node->source() : name_key.source(),
           kind_node != nullptr ? fmt::format("{}.kind: unknown kind '{}'", section, kind_name)
                                : fmt::format("[{}] needs a 'kind'", section),
           guess.empty() || kind_node == nullptr ? fmt::format("kinds: {}", fmt::join(kinds, ", "))
                                                 : fmt::format("did you mean '{}'?", guess));
  }
  std::vector<std::string_view> allowed;
  if (builtin == nullptr || kind_node != nullptr) {
    allowed.emplace_back("kind");
  }
  for (const auto& key : kind->keys) {
    allowed.emplace_back(key.name);
  }
  r.check_keys(t, section, allowed);
  TaskConfig task = builtin != nullptr ? *builtin : task_with_defaults(*kind, name);
  for (const auto& key : kind->keys) {
    read_key(r, t, section, key, task);
  }
  if (kind->check != nullptr) {
    kind->check(task, [&](std::string_view key, const std::string& message, const std::string& hint) {
      const toml::node* node = t.get(key);
      r.fail(node != nullptr ? node->source() : t.source(), message, hint);
    });
  }
  if (builtin != nullptr) {
    *builtin = std::move(task);
  } else {
    out.tasks.push_back(std::move(task));
  }
}

// [tasks.NAME] sections in file order (built-in ones change their rows; others add tasks),
// and [tasks] all = [...].
void read_tasks(const Reader& r, const toml::table& tasks, Config& out)
{
  for (const auto& [key_ptr, node_ptr] : in_file_order(tasks)) {
    const std::string name(key_ptr->str());
    if (name == "all") {
      continue;
    }
    const toml::table* t = node_ptr->as_table();
    if (t == nullptr) {
      r.fail(node_ptr->source(), fmt::format("[tasks.{}] must be a table", name),
             "tasks are conversations, messages, users, stats, or your own with a kind");
    }
    if (!is_safe_identifier(name) || name.find('.') != std::string::npos) {
      r.fail(key_ptr->source(), fmt::format("task name '{}' may only use letters, digits and '_'", name));
    }
    read_task(r, *key_ptr, *t, out);
  }
  if (const toml::node* all = tasks.get("all")) {
    r.strings(tasks, "all", "tasks", out.all);
    for (const auto& name : out.all) {
      if (find_task(out, name) == nullptr) {
        r.fail(all->source(), fmt::format("tasks.all: unknown task '{}'", name),
               "list built-in tasks and tasks defined under [tasks.NAME]");
      }
    }
  }
}

void read_jobs(const Reader& r, const toml::table& jobs, Config& out)
{
  out.jobs.clear();
  for (const auto& [key_ptr, node_ptr] : in_file_order(jobs)) {
    const toml::key& key = *key_ptr;
    const toml::node& node = *node_ptr;
    const std::string name(key.str());
    const std::string section = fmt::format("jobs.{}", name);
    const toml::table* t = node.as_table();
    if (t == nullptr) {
      r.fail(node.source(), fmt::format("[{}] must be a table", section));
    }
    r.check_keys(*t, section,
                 {"task", "schedule", "timezone", "misfire_grace", "jitter", "catch_up", "enabled", "timeout",
                  "retries", "on_failure", "on_success", "allow_empty"});
    const bool plain_name = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
    });
    if (!plain_name) {
      r.fail(key.source(), fmt::format("job name '{}' may only use letters, digits, '_' and '-'", name),
             "job names become file names of systemd units and crontab comments");
    }
    JobConfig job;
    job.name = name;
    if (!r.string(*t, "task", section, job.task)) {
      r.fail(t->source(), fmt::format("[{}] needs a 'task'", section));
    }
    if (!is_known_task(out, job.task)) {
      const auto names = task_names(out);
      const std::vector<std::string_view> views(names.begin(), names.end());
      const std::string guess = closest_match(job.task, views);
      r.fail(t->get("task")->source(), fmt::format("{}.task: unknown task '{}'", section, job.task),
             guess.empty() ? fmt::format("known tasks: {}", fmt::join(names, ", "))
                           : fmt::format("did you mean '{}'?", guess));
    }
    if (!r.string(*t, "schedule", section, job.schedule) || job.schedule.empty()) {
      r.fail(t->source(), fmt::format("[{}] needs a 'schedule'", section));
    }
    try {
      Schedule::parse(job.schedule);
    } catch (const CronError& e) {
      r.fail(t->get("schedule")->source(), fmt::format("{}.schedule: {}", section, e.what()), e.hint());
    }
    if (r.string(*t, "timezone", section, job.timezone)) {
      r.zone(*t, "timezone", section);
    }
    r.optional_duration(*t, "misfire_grace", section, job.misfire_grace);
    r.optional_duration(*t, "jitter", section, job.jitter);
    std::string catch_up(catch_up_name(job.catch_up));
    r.string(*t, "catch_up", section, catch_up);
    if (catch_up == "once" || catch_up == "skip") {
      job.catch_up = catch_up == "once" ? CatchUp::once : CatchUp::skip;
    } else {
      r.fail(t->get("catch_up")->source(), fmt::format("{}.catch_up: '{}' is not a policy", section, catch_up),
             "use \"once\" or \"skip\"");
    }
    r.boolean(*t, "enabled", section, job.enabled);
    r.optional_duration(*t, "timeout", section, job.timeout);
    r.integer(*t, "retries", section, job.retries, 0, 100);
    r.boolean(*t, "allow_empty", section, job.allow_empty);
    std::string hook;
    if (r.string(*t, "on_failure", section, hook)) {
      job.on_failure = hook;
    }
    if (r.string(*t, "on_success", section, hook)) {
      job.on_success = hook;
    }
    out.jobs.push_back(std::move(job));
  }
}

// Deletes cascade along the union of every task's children; a cycle there would never end.
void check_cascade_cycles(const Config& config)
{
  std::multimap<std::string, std::string> edges;
  auto add = [&](const std::string& parent, const std::vector<ChildConfig>& children) {
    for (const auto& child : children) {
      edges.emplace(parent, child.table);
    }
  };
  for (const auto& task : config.tasks) {
    add(task.table(), task.children());
  }

  std::set<std::string> done;
  std::vector<std::string> path;
  auto visit = [&](auto&& self, const std::string& table) -> void {
    if (std::find(path.begin(), path.end(), table) != path.end()) {
      path.push_back(table);
      throw ConfigError(
        fmt::format("{}: the children of the tasks form a cycle: {}", config.source, fmt::join(path, " -> ")),
        "a table cannot be its own descendant");
    }
    if (done.count(table) != 0) {
      return;
    }
    path.push_back(table);
    auto [begin, end] = edges.equal_range(table);
    for (auto it = begin; it != end; ++it) {
      self(self, it->second);
    }
    path.pop_back();
    done.insert(table);
  };
  for (const auto& [parent, child] : edges) {
    visit(visit, parent);
  }
}

} // namespace

Config parse_config(std::string_view toml_text, const std::string& source)
{
  Config config;
  config.source = source;
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}:{}:{}: invalid TOML: {}", source, e.source().begin.line, e.source().begin.column,
                                  e.description()),
                      "see housekeep.toml(5) for the file format");
  }
  const Reader r(source);
  r.check_keys(root, "top level", {"database", "defaults", "http", "tasks", "jobs"});
  if (const auto* t = r.table(root, "database", "top level")) {
    read_database(r, *t, config.database);
  }
  if (const auto* t = r.table(root, "defaults", "top level")) {
    read_defaults(r, *t, config.defaults);
  }
  if (const auto* t = r.table(root, "http", "top level")) {
    r.check_keys(*t, "http", {"listen", "token_file"});
    if (r.string(*t, "listen", "http", config.http.listen)) {
      try {
        parse_listen_address(config.http.listen);
      } catch (const UsageError& e) {
        r.fail(t->get("listen")->source(), fmt::format("http.listen: {}", e.what()), e.hint());
      }
    }
    r.string(*t, "token_file", "http", config.http.token_file);
  }
  if (const auto* t = r.table(root, "tasks", "top level")) {
    read_tasks(r, *t, config);
  }
  if (const auto* t = r.table(root, "jobs", "top level")) {
    read_jobs(r, *t, config);
  }
  check_cascade_cycles(config);
  return config;
}

Config load_config_file(const std::string& path)
{
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    if (errno == EACCES) {
      throw PermissionError(fmt::format("cannot read configuration '{}': permission denied", path));
    }
    throw NotFoundError(fmt::format("configuration file '{}' not found", path),
                        "check --config or HOUSEKEEP_CONFIG; without either, ./housekeep.toml and "
                        "/etc/housekeep/housekeep.toml are tried, then built-in defaults");
  }
  if (S_ISDIR(info.st_mode)) {
    throw ConfigError(fmt::format("configuration '{}' is a directory", path));
  }
  if (::access(path.c_str(), R_OK) != 0) {
    throw PermissionError(fmt::format("cannot read configuration '{}': permission denied", path));
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (!in.good() && !in.eof()) {
    throw IoError(fmt::format("cannot read configuration '{}'", path));
  }
  return parse_config(buffer.str(), path);
}

namespace {

// A TOML basic string: double-quoted, with quotes, backslashes and control characters escaped.
std::string toml_string(std::string_view text)
{
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += fmt::format("\\u{:04X}", static_cast<unsigned>(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out + '"';
}

} // namespace

std::string_view catch_up_name(CatchUp policy)
{
  return policy == CatchUp::once ? "once" : "skip";
}

namespace {

std::string referenced_toml(OnReferenced referenced)
{
  return referenced == OnReferenced::keep ? "\"keep\"" : "\"fail\"";
}

std::string children_toml(const std::vector<ChildConfig>& children)
{
  std::vector<std::string> items;
  for (const auto& child : children) {
    items.push_back(fmt::format("{{ table = {}, foreign_key = {}, id_column = {} }}", toml_string(child.table),
                                toml_string(child.foreign_key), toml_string(child.id_column)));
  }
  return items.empty() ? "[]" : fmt::format("[ {} ]", fmt::join(items, ", "));
}

std::string dur(Millis value)
{
  return toml_string(format_duration(value));
}

std::string strings_toml(const std::vector<std::string>& items)
{
  std::vector<std::string> quoted;
  for (const auto& item : items) {
    quoted.push_back(toml_string(item));
  }
  return fmt::format("[{}]", fmt::join(quoted, ", "));
}

// A task's value as the file would write it (a duration as it was written).
std::string setting_toml(const Setting& value)
{
  return std::visit(
    [](const auto& v) -> std::string {
      using T = std::decay_t<decltype(v)>;
      if constexpr (std::is_same_v<T, std::string>) {
        return toml_string(v);
      } else if constexpr (std::is_same_v<T, bool>) {
        return v ? "true" : "false";
      } else if constexpr (std::is_same_v<T, std::int64_t>) {
        return std::to_string(v);
      } else if constexpr (std::is_same_v<T, Duration>) {
        return toml_string(v.text.empty() ? format_duration(v.value) : v.text);
      } else if constexpr (std::is_same_v<T, TimeFormat>) {
        return toml_string(time_format_name(v));
      } else if constexpr (std::is_same_v<T, OnReferenced>) {
        return referenced_toml(v);
      } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
        return strings_toml(v);
      } else {
        return children_toml(v);
      }
    },
    value);
}

} // namespace

std::string config_to_toml(const Config& c)
{
  std::string out = fmt::format("# effective configuration (from {})\n\n", c.source);
  out += "[database]\n";
  if (!c.database.url.empty()) {
    out += fmt::format("url = {}\n", toml_string(parse_database_url(c.database.url).redacted()));
  }
  out += fmt::format("busy_timeout = {}\nstatement_timeout = {}\nmax_replication_lag = {}\nlease = {}\n",
                     dur(c.database.busy_timeout), dur(c.database.statement_timeout),
                     dur(c.database.max_replication_lag), dur(c.database.lease));
  if (!c.database.history_schema.empty()) {
    out += fmt::format("history_schema = {}\n", toml_string(c.database.history_schema));
  }
  out += "\n";
  out +=
    fmt::format("[defaults]\nbatch_size = {}\n{}\n{}\ntimezone = {}\nmisfire_grace = {}\njitter = {}\n"
                "history_keep = {}\nmax_delete = {}\non_failure = {}\non_success = {}\n"
                "hook_timeout = {}\n\n",
                c.defaults.batch_size,
                c.defaults.batch_time ? "batch_time = " + dur(*c.defaults.batch_time)
                                      : std::string("# batch_time: the engine's (50ms on SQLite, 100ms on PostgreSQL)"),
                c.defaults.sleep ? "sleep = " + dur(*c.defaults.sleep)
                                 : std::string("# sleep: the engine's (25ms on SQLite, 0s on PostgreSQL)"),
                toml_string(c.defaults.timezone), dur(c.defaults.misfire_grace), dur(c.defaults.jitter),
                dur(c.defaults.history_keep), c.defaults.max_delete, toml_string(c.defaults.on_failure),
                toml_string(c.defaults.on_success), dur(c.defaults.hook_timeout));
  out += fmt::format("[http]\n{}\n{}\n\n",
                     c.http.listen.empty() ? std::string("# listen: off (daemon --listen turns it on)")
                                           : "listen = " + toml_string(c.http.listen),
                     c.http.token_file.empty() ? std::string("# token_file: none (loopback only)")
                                               : "token_file = " + toml_string(c.http.token_file));
  std::vector<std::string> all;
  for (const auto& name : c.all) {
    all.push_back(toml_string(name));
  }
  out += fmt::format("[tasks]\nall = [ {} ]\n\n", fmt::join(all, ", "));
  for (const auto& task : c.tasks) {
    out += fmt::format("{}[tasks.{}]\nkind = {}\n", &task == &c.tasks.front() ? "" : "\n", task.name,
                       toml_string(task.kind));
    for (const auto& key : find_kind(task.kind)->keys) {
      out += fmt::format("{} = {}\n", key.name, setting_toml(task.settings.at(key.name)));
    }
  }
  for (const auto& job : c.jobs) {
    out += fmt::format("\n[jobs.{}]\ntask = {}\nschedule = {}\n", job.name, toml_string(job.task),
                       toml_string(job.schedule));
    if (!job.timezone.empty()) {
      out += fmt::format("timezone = {}\n", toml_string(job.timezone));
    }
    if (job.misfire_grace) {
      out += fmt::format("misfire_grace = {}\n", dur(*job.misfire_grace));
    }
    if (job.jitter) {
      out += fmt::format("jitter = {}\n", dur(*job.jitter));
    }
    if (job.timeout) {
      out += fmt::format("timeout = {}\n", dur(*job.timeout));
    }
    out += fmt::format("catch_up = {}\nretries = {}\nenabled = {}\nallow_empty = {}\n",
                       toml_string(catch_up_name(job.catch_up)), job.retries, job.enabled, job.allow_empty);
    if (job.on_failure) {
      out += fmt::format("on_failure = {}\n", toml_string(*job.on_failure));
    }
    if (job.on_success) {
      out += fmt::format("on_success = {}\n", toml_string(*job.on_success));
    }
  }
  return out;
}

} // namespace housekeep
