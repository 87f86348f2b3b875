// Wires the command line to the core library and maps errors to exit statuses; nothing else.
#include "commands.hpp"

#include "housekeep/error.hpp"
#include "housekeep/output.hpp"
#include "housekeep/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string_view>
#include <vector>

namespace {

using namespace housekeep;

int report(const cli::Globals& globals, ExitCode code, const std::string& message, const std::string& hint)
{
  const Logger log = cli::make_logger(globals);
  log.error("{}", message);
  if (!hint.empty()) {
    log.hint(hint);
  }
  if (globals.json) {
    cli::print_stdout(error_json(code, message, hint).dump(2) + "\n");
  }
  return static_cast<int>(code);
}

// CLI11 reports an unknown subcommand as "a subcommand is required"; name it instead.
void check_command_name(int argc, char** argv)
{
  const std::vector<std::string_view> with_value{"-c", "--config", "-d", "--db", "--log-format"};
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (std::find(with_value.begin(), with_value.end(), arg) != with_value.end()) {
      ++i;
      continue;
    }
    if (arg.starts_with("-")) {
      continue;
    }
    std::vector<std::string_view> names;
    for (const auto& command : cli::command_table()) {
      if (command.name == arg) {
        return;
      }
      names.push_back(command.name);
    }
    const std::string guess = closest_match(arg, names);
    throw UsageError(fmt::format("unknown command '{}'", arg), guess.empty()
                                                                 ? fmt::format("commands: {}", fmt::join(names, ", "))
                                                                 : fmt::format("did you mean '{}'?", guess));
  }
}

// An empty value is a mistake (`--db "$DB"` with DB unset), never "not given": it would fall
// back to another database, the built-in configuration or a default.
void refuse_empty_values(CLI::App& app)
{
  static const CLI::Validator non_empty(
    [](std::string& value) {
      return value.empty() ? std::string("an empty value is not allowed (is a shell variable unset?)") : std::string();
    },
    "", "non-empty");
  for (CLI::Option* option : app.get_options()) {
    if (option->get_expected_min() > 0) {
      option->check(non_empty);
    }
  }
  for (CLI::App* sub : app.get_subcommands({})) {
    refuse_empty_values(*sub);
  }
}

// "Exit status: 0 ok, 1 task failed, ...", from the code's own table, wrapped.
std::string exit_status_text()
{
  std::string out = "Exit status:";
  std::size_t line = out.size();
  for (std::size_t i = 0; i < k_exit_codes.size(); ++i) {
    const ExitCode code = k_exit_codes[i];
    const std::string item = fmt::format(" {} {}{}", static_cast<int>(code), exit_code_summary(code),
                                         i + 1 == k_exit_codes.size() ? "." : ",");
    if (line + item.size() > 88) {
      out += "\n";
      line = 0;
    }
    out += line == 0 ? item.substr(1) : item;
    line += line == 0 ? item.size() - 1 : item.size();
  }
  return out;
}

} // namespace

int main(int argc, char** argv)
{
  cli::Globals globals;
  cli::Action action;

  CLI::App app{"housekeep keeps an application's database tidy: it purges rows past their\n"
               "retention, removes orphans and never-activated accounts, and reports statistics.",
               "housekeep"};
  app.set_version_flag("--version", "housekeep " HOUSEKEEP_VERSION);
  app.fallthrough();
  app.require_subcommand(1);
  app.footer("Run 'housekeep COMMAND --help' for a command's options.\n" + exit_status_text());
  app
    .add_option("-c,--config", globals.config_path,
                "Configuration file (default: $HOUSEKEEP_CONFIG, ./housekeep.toml, "
                "/etc/housekeep/housekeep.toml)")
    ->type_name("FILE");
  app
    .add_option("-d,--db", globals.db,
                "Database URL or file (default: $HOUSEKEEP_DATABASE_URL, $DATABASE_URL, "
                "database.url, ./housekeep.db)")
    ->type_name("URL");
  app.add_flag("--json", globals.json, "Print results (and errors) as one JSON document on stdout");
  app.add_option("--log-format", globals.log_format, "Log lines on stderr as text or json")
    ->type_name("FORMAT")
    ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("-q,--quiet", globals.quiet, "Print nothing but errors (crontab friendly)");
  app.add_flag("-v,--verbose", globals.verbose, "Log each step, batch and SQL decision");

  for (const auto& command : cli::command_table()) {
    command.add(app, globals, action);
  }

  refuse_empty_values(app);
  // A usage error stops parsing before --json would be read: look for it first, so that
  // `--json` always gets its JSON document.
  for (int i = 1; i < argc && std::string_view(argv[i]) != "--"; ++i) {
    globals.json = globals.json || std::string_view(argv[i]) == "--json";
  }

  try {
    check_command_name(argc, argv);
    app.parse(argc, argv);
  } catch (const UsageError& e) {
    return report(globals, e.code(), e.what(), e.hint());
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      return app.exit(e); // --help and --version print to stdout and succeed
    }
    const std::string hint = "see 'housekeep --help'";
    return report(globals, ExitCode::usage, e.what(), hint);
  }

  try {
    return action ? action() : static_cast<int>(ExitCode::usage);
  } catch (const Error& e) {
    return report(globals, e.code(), e.what(), e.hint());
  } catch (const std::exception& e) {
    return report(globals, ExitCode::internal, fmt::format("internal error: {}", e.what()),
                  "this is a bug in housekeep; please report it with the command line used");
  }
}
