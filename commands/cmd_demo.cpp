#include "commands.hpp"

#include "housekeep/demo.hpp"
#include "housekeep/error.hpp"
#include "housekeep/settings.hpp"
#include "housekeep/text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace housekeep::cli {

namespace {

struct DemoArgs {
  std::int64_t rows = 10000;
  bool force = false;
};

int demo(const Globals& globals, const DemoArgs& args)
{
  const Session session = make_session(globals);
  if (session.url.scheme != "sqlite" && session.url.scheme != "file") {
    throw UsageError(fmt::format("demo creates SQLite databases only, not '{}'", session.url.redacted()));
  }
  const SystemClock clock;
  const DemoSummary summary = create_demo_database(DemoOptions{session.url.path, args.rows, args.force}, clock.now());
  if (globals.json) {
    print_stdout(nlohmann::ordered_json{{"ok", true},
                                        {"database", session.url.path},
                                        {"users", summary.users},
                                        {"inactive_users", summary.inactive_users},
                                        {"conversations", summary.conversations},
                                        {"messages", summary.messages},
                                        {"orphan_messages", summary.orphan_messages}}
                   .dump(2) +
                 "\n");
  } else if (!globals.quiet) {
    print_stdout(fmt::format("created demo database '{}':\n  {} users ({} never activated), {} conversations, "
                             "{} messages ({} orphaned)\n",
                             session.url.path, with_thousands(summary.users), with_thousands(summary.inactive_users),
                             with_thousands(summary.conversations), with_thousands(summary.messages),
                             with_thousands(summary.orphan_messages)));
  }
  session.log.info("next: housekeep --db {} run --task all --dry-run", session.url.path);
  return 0;
}

} // namespace

void register_demo(CLI::App& app, const Globals& globals, Action& action)
{
  auto args = std::make_shared<DemoArgs>();
  CLI::App* sub =
    app.add_subcommand("demo", "Create a sample SQLite database (the classic chat schema) to try every task on");
  sub->footer("The database goes where --db points (default ./housekeep.db). Ages spread over\n"
              "90 days; about 15% of users never activated; about 3% of messages are orphans.");
  sub->add_option("--rows", args->rows, "Number of messages (default 10000)")
    ->type_name("N")
    ->check(CLI::Range(std::int64_t{1}, std::int64_t{100'000'000}));
  sub->add_flag("--force", args->force, "Replace the file if it exists");
  sub->callback([&action, &globals, args] { action = [&globals, args] { return demo(globals, *args); }; });
}

} // namespace housekeep::cli
