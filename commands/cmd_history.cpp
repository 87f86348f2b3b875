#include "commands.hpp"

#include "housekeep/error.hpp"
#include "housekeep/history.hpp"
#include "housekeep/output.hpp"
#include "housekeep/task.hpp"

#include <fmt/format.h>

namespace housekeep::cli {

namespace {

struct HistoryArgs {
  std::size_t limit = 20;
  std::string task;
  std::string job;
};

int history(const Globals& globals, const HistoryArgs& args)
{
  const Session session = make_session(globals);
  if (!args.task.empty() && (!is_known_task(session.config, args.task) || args.task == "all")) {
    std::vector<std::string> names;
    for (const auto& task : session.config.tasks) {
      names.push_back(task.name);
    }
    throw UsageError(fmt::format("unknown task '{}'", args.task),
                     fmt::format("history is kept per task: {}", fmt::join(names, ", ")));
  }
  const auto store = session.open(AccessMode::read_only);
  const auto runs = store->history().runs(RunQuery{.limit = args.limit, .task = args.task, .job = args.job});
  if (globals.json) {
    print_stdout(history_json(runs).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
    return 0;
  }
  if (runs.empty()) {
    session.log.notice("no runs recorded in '{}' yet", store->describe());
    return 0;
  }
  print_stdout(history_table(runs));
  return 0;
}

} // namespace

void register_history(CLI::App& app, const Globals& globals, Action& action)
{
  auto args = std::make_shared<HistoryArgs>();
  CLI::App* sub = app.add_subcommand("history", "Show recorded runs from housekeep_runs, newest first");
  sub->add_option("-n,--limit", args->limit, "How many runs to show (default 20)")
    ->type_name("N")
    ->check(CLI::Range(std::size_t{1}, std::size_t{100000}));
  sub->add_option("-t,--task", args->task, "Only runs of this task")->type_name("NAME");
  sub->add_option("--job", args->job, "Only runs fired for this configured job")->type_name("NAME");
  sub->callback([&action, &globals, args] { action = [&globals, args] { return history(globals, *args); }; });
}

} // namespace housekeep::cli
