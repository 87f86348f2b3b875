#include "commands.hpp"

#include "housekeep/config.hpp"
#include "housekeep/settings.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace housekeep::cli {

namespace {

int check(const Globals& globals)
{
  const Session session = make_session(globals);
  if (globals.json) {
    print_stdout(nlohmann::ordered_json{{"ok", true},
                                        {"source", session.config.source},
                                        {"database", session.url.redacted()},
                                        {"jobs", session.config.jobs.size()}}
                   .dump(2) +
                 "\n");
  } else if (!globals.quiet) {
    print_stdout(fmt::format("configuration ok: {} ({} jobs; database {})\n", session.config.source,
                             session.config.jobs.size(), session.url.redacted()));
  }
  return 0;
}

int show(const Globals& globals)
{
  Session session = make_session(globals);
  session.config.database.url = session.url.text;
  print_stdout(config_to_toml(session.config));
  return 0;
}

} // namespace

void register_config(CLI::App& app, const Globals& globals, Action& action)
{
  CLI::App* sub = app.add_subcommand("config", "Check or show the configuration");
  sub->require_subcommand(1);
  sub->footer("The file is --config, else $HOUSEKEEP_CONFIG, else ./housekeep.toml, else\n"
              "/etc/housekeep/housekeep.toml; with none of them, built-in defaults apply.");
  sub->add_subcommand("check", "Validate the configuration file (exit 78 with FILE:LINE:COL if not)")
    ->callback([&action, &globals] { action = [&globals] { return check(globals); }; });
  sub->add_subcommand("show", "Print the effective configuration as TOML, defaults included")
    ->callback([&action, &globals] { action = [&globals] { return show(globals); }; });
}

} // namespace housekeep::cli
