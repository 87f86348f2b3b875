#include "commands.hpp"

#include "housekeep/demo.hpp"
#include "housekeep/error.hpp"
#include "housekeep/settings.hpp"
#include "housekeep/text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <vector>

namespace housekeep::cli {

namespace {

struct DemoArgs {
  std::int64_t rows = 10000;
  bool force = false;
  std::string layout = "time"; // one of the names of k_demo_layouts
};

int demo(const Globals& globals, const DemoArgs& args)
{
  const Session session = make_session(globals);
  const SystemClock clock;
  const DemoSummary summary =
    create_demo_database(session.url, DemoOptions{args.rows, args.force, *find_demo_layout(args.layout)}, clock.now());
  // A file by its path; a server's database by its URL, password masked (quoted for a shell).
  const bool file = session.url.scheme == "sqlite" || session.url.scheme == "file";
  const std::string where = file ? session.url.path : session.url.redacted();
  if (globals.json) {
    print_stdout(nlohmann::ordered_json{{"ok", true},
                                        {"database", where},
                                        {"users", summary.users},
                                        {"inactive_users", summary.inactive_users},
                                        {"conversations", summary.conversations},
                                        {"messages", summary.messages},
                                        {"orphan_messages", summary.orphan_messages},
                                        {"layout", args.layout}}
                   .dump(2) +
                 "\n");
  } else if (!globals.quiet) {
    print_stdout(fmt::format("created demo database '{}':\n  {} users ({} never activated), {} conversations, "
                             "{} messages ({} orphaned)\n",
                             where, with_thousands(summary.users), with_thousands(summary.inactive_users),
                             with_thousands(summary.conversations), with_thousands(summary.messages),
                             with_thousands(summary.orphan_messages)));
  }
  session.log.info("next: housekeep --db {} run --task all --dry-run", file ? where : "'" + where + "'");
  return 0;
}

} // namespace

void register_demo(CLI::App& app, const Globals& globals, Action& action)
{
  auto args = std::make_shared<DemoArgs>();
  CLI::App* sub = app.add_subcommand("demo", "Create a sample database (the classic chat schema) to try every task on");
  sub->footer("The database goes where --db points (default ./housekeep.db): a SQLite file, or the\n"
              "tables users, conversations and messages in an existing PostgreSQL database\n"
              "(which must not have them yet). Ages spread over 90 days; about 15% of users\n"
              "never activated; about 3% of messages are orphans. --layout shapes keys and\n"
              "times as real tables come: time (ids follow creation time, a conversation's\n"
              "messages within hours of it), shuffled (ids in random order against time, in\n"
              "every table), interleaved (a conversation's messages spread over three weeks\n"
              "among everyone else's).");
  sub->add_option("--rows", args->rows, "Number of messages (default 10000)")
    ->type_name("N")
    ->check(CLI::Range(std::int64_t{1}, std::int64_t{100'000'000}));
  sub->add_flag("--force", args->force, "Replace the file if it exists (SQLite only)");
  std::vector<std::string> layouts;
  for (const DemoLayout layout : k_demo_layouts) {
    layouts.emplace_back(demo_layout_name(layout));
  }
  sub->add_option("--layout", args->layout, "How ids and times relate (default time)")
    ->type_name("time|shuffled|interleaved")
    ->check(CLI::IsMember(layouts));
  sub->callback([&action, &globals, args] { action = [&globals, args] { return demo(globals, *args); }; });
}

} // namespace housekeep::cli
