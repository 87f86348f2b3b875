#include "commands.hpp"

#include "housekeep/settings.hpp"

#include <array>
#include <cstdio>

#include <sys/stat.h>
#include <unistd.h>

namespace housekeep::cli {

namespace {

constexpr std::array<Command, 9> k_commands{{
  {"run", &register_run},
  {"scheduler-info", &register_scheduler_info},
  {"status", &register_status},
  {"daemon", &register_daemon},
  {"history", &register_history},
  {"restore", &register_restore},
  {"cron", &register_cron},
  {"demo", &register_demo},
  {"config", &register_config},
}};

} // namespace

std::span<const Command> command_table()
{
  return k_commands;
}

Logger make_logger(const Globals& globals)
{
  LogLevel level = LogLevel::info;
  if (globals.quiet) {
    level = LogLevel::error;
  } else if (globals.verbose > 0) {
    level = LogLevel::debug;
  }
  const LogFormat format = globals.log_format == "json" ? LogFormat::json : LogFormat::text;
  return Logger(level, format, process_env("JOURNAL_STREAM").has_value());
}

Session make_session(const Globals& globals)
{
  Config config = load_config(globals.config_path, process_env);
  DatabaseUrl url = parse_database_url(resolve_database_url(globals.db, process_env, config));
  return Session{std::move(config), make_logger(globals), std::move(url)};
}

std::unique_ptr<Store> Session::open(AccessMode mode) const
{
  return open(OpenOptions{.mode = mode});
}

std::unique_ptr<Store> Session::open(OpenOptions options) const
{
  options.busy_timeout = config.database.busy_timeout;
  options.statement_timeout = config.database.statement_timeout;
  options.history_schema = config.database.history_schema;
  options.lease = config.database.lease;
  return open_store(url, options);
}

bool same_terminal(int a, int b)
{
  struct stat first {};
  struct stat second {};
  return ::isatty(a) == 1 && ::isatty(b) == 1 && ::fstat(a, &first) == 0 && ::fstat(b, &second) == 0 &&
         first.st_rdev == second.st_rdev;
}

void print_stdout(std::string_view text)
{
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

} // namespace housekeep::cli
