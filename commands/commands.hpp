// The subcommands of the housekeep binary, listed once in k_commands (commands.cpp).
//
// Adding a subcommand:
//  1. write commands/cmd_<name>.cpp with a file-local options struct and one exported
//     `void register_<name>(CLI::App& app, const Globals& globals, Action& action)` that
//     adds the subcommand and, in its callback, sets `action`;
//  2. add one row to k_commands and the file to commands/CMakeLists.txt;
//  3. document it in README.md and its --help, and test it in tests/cli/.
// Commands stay thin: no SQL, no cron arithmetic and no sleeping here; they parse options,
// call the core library and print its results.
#pragma once

#include "housekeep/config.hpp"
#include "housekeep/log.hpp"
#include "housekeep/store.hpp"

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace housekeep::cli {

/// Options that every subcommand accepts.
struct Globals {
  std::string config_path;
  std::string db;
  bool json = false;
  std::string log_format = "text";
  bool quiet = false;
  int verbose = 0;
};

/// The work a parsed command line asks for; returns the exit status.
using Action = std::function<int()>;

/// One row of the subcommand table.
struct Command {
  std::string_view name;
  void (*add)(CLI::App& app, const Globals& globals, Action& action);
};

/// Every subcommand, in the order `--help` lists them.
std::span<const Command> command_table();

/// What most commands need: the configuration, a logger and the database URL, resolved
/// from flags, environment and config file.
struct Session {
  Config config;
  Logger log;
  DatabaseUrl url;

  /// Opens the store with the configured busy timeout.
  std::unique_ptr<Store> open(AccessMode mode) const;
  /// Opens the store as open() does, with `options` taking the configured busy timeout.
  std::unique_ptr<Store> open(OpenOptions options) const;
};

/// The logger the global options ask for.
Logger make_logger(const Globals& globals);

/// Loads configuration and resolves the database URL; throws housekeep::Error.
Session make_session(const Globals& globals);

/// Writes a result to stdout: JSON documents pretty-printed, text as is.
void print_stdout(std::string_view text);

/// True when both descriptors are the same terminal (one person reads both streams).
bool same_terminal(int a, int b);

void register_run(CLI::App& app, const Globals& globals, Action& action);
void register_history(CLI::App& app, const Globals& globals, Action& action);
void register_demo(CLI::App& app, const Globals& globals, Action& action);
void register_config(CLI::App& app, const Globals& globals, Action& action);
void register_cron(CLI::App& app, const Globals& globals, Action& action);
void register_scheduler_info(CLI::App& app, const Globals& globals, Action& action);
void register_status(CLI::App& app, const Globals& globals, Action& action);
/// Prints the schedule's status (schedule_status()): the table, or with `json` the document;
/// with `check`, exits 1 after one error line per problem. For scheduler-info and status.
int print_status(const Session& session, const Globals& globals, bool json, std::size_t count, bool check);
void register_daemon(CLI::App& app, const Globals& globals, Action& action);
void register_restore(CLI::App& app, const Globals& globals, Action& action);

} // namespace housekeep::cli
