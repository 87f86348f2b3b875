// Kinds of task, each declared once: its name, what it does, whether it writes, its function,
// and its keys (type, default, limits). Reading [tasks.NAME], `config show`, --help, the task
// names of completions and the man page's key list all follow from the one table of kinds
// (task_kinds()), and the built-in tasks are default rows of their kinds (default_tasks()).
//
// Adding a kind: one file in src/tasks/ defining `const TaskKind& <kind>_kind()` (its keys and
// its function, holding only its policy), and one row in task_kinds() (src/tasks/tasks.cpp).
// Then document its keys in housekeep.toml(5) (a test holds the man page to `config show`).
#pragma once

#include "housekeep/config.hpp"
#include "housekeep/task.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace housekeep {

/// How a key's value is written in the file and checked when read.
enum class KeyType {
  text,        // a string; with `choices`, one of them
  identifier,  // a safe SQL identifier (optionally schema.name)
  boolean,     // true or false
  integer,     // within [min, max]
  duration,    // "30d", "1h30m"; with `positive`, above 0
  time_format, // auto, iso8601, unix, unix_ms
  zone,        // an IANA time zone name ("Europe/Berlin"); empty: none
  referenced,  // keep or fail
  strings,     // an array of strings
  children,    // an array of { table, foreign_key, id_column }
  directory,   // an absolute path other than /, without trailing slashes
  command,     // an array of strings (argv), or one string run by /bin/sh with shell = true
};

/// One key of a kind.
struct KeySpec {
  std::string name;
  KeyType type;
  Setting default_value;
  bool required = false; // the file must set it (and, for a duration, above 0)
  std::int64_t min = 0;  // integer range
  std::int64_t max = 0;
  std::vector<std::string> choices; // the values a text key may take; empty: any
};

/// Reports a problem with one key of the task being read (its location in the file).
using KeyProblem = std::function<void(std::string_view key, const std::string& message, const std::string& hint)>;

/// A kind of task.
struct TaskKind {
  std::string name;
  std::string summary;
  bool writes = false; // deletes rows: needs write access and the purge lock unless dry-run
  TaskFn run = nullptr;
  std::vector<KeySpec> keys; // in the order `config show` writes them
  /// The tables of the database a task of this kind works on (for the guards and the check
  /// that the database is the right one); null: none.
  std::vector<std::string> (*tables)(const TaskConfig& task, const Config& config) = nullptr;
  /// Checks that span several keys, after each was read; null: none.
  void (*check)(const TaskConfig& task, const KeyProblem& problem) = nullptr;
};

/// Every kind, in the order --help lists them.
const std::vector<const TaskKind*>& task_kinds();

/// The kind called `name`, or null.
const TaskKind* find_kind(std::string_view name);

/// A task of `kind` named `name` with every key at its default.
TaskConfig task_with_defaults(const TaskKind& kind, std::string name);

} // namespace housekeep
