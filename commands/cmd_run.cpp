#include "commands.hpp"

#include "housekeep/duration.hpp"
#include "housekeep/error.hpp"
#include "housekeep/output.hpp"
#include "housekeep/progress.hpp"
#include "housekeep/report.hpp"
#include "housekeep/run.hpp"
#include "housekeep/system.hpp"
#include "housekeep/task.hpp"
#include "housekeep/task_kind.hpp"
#include "housekeep/text.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>

namespace housekeep::cli {

namespace {

struct RunArgs {
  std::vector<std::string> tasks;
  std::string job;
  bool dry_run = false;
  std::string older_than;
  std::int64_t batch_size = 0;
  std::string batch_time;
  std::string archive;
  std::string metrics_file;
  std::string statsd;
  std::string sleep;
  std::string wait;
  std::string timeout;
  std::int64_t max_delete = 0;
  bool max_delete_given = false;
  bool allow_empty = false;
  bool wait_given = false;
  bool batch_size_given = false;
  bool force = false;
};

int run(const Globals& globals, const RunArgs& args)
{
  if (args.tasks.empty() && args.job.empty()) {
    throw UsageError("--task is required (or --job NAME to run a configured job)",
                     "for example: housekeep run --task all --dry-run");
  }
  if (!args.tasks.empty() && !args.job.empty()) {
    throw UsageError("give --task or --job, not both", "--job runs the task its configuration names");
  }
  RunRequest request;
  request.options.dry_run = args.dry_run;
  if (!args.older_than.empty()) {
    request.options.older_than = parse_duration(args.older_than);
  }
  if (args.batch_size_given) {
    if (args.batch_size < 1 || args.batch_size > k_max_batch_size) {
      throw UsageError(fmt::format("--batch-size {} is out of range 1-{}", args.batch_size, k_max_batch_size));
    }
    request.options.batch_size = args.batch_size;
  }
  if (!args.batch_time.empty()) {
    request.options.batch_time = parse_duration(args.batch_time);
  }
  if (!args.sleep.empty()) {
    request.options.sleep = parse_duration(args.sleep);
  }
  if (args.wait_given) {
    request.lock_wait = args.wait.empty() ? Millis::max() / 2 : parse_duration(args.wait);
  }
  if (!args.timeout.empty()) {
    request.options.timeout = parse_duration(args.timeout);
  }
  if (args.max_delete_given) {
    if (args.max_delete < 1) {
      throw UsageError(fmt::format("--max-delete {} must be at least 1", args.max_delete),
                       "it is the most rows one run may delete; the run is refused (exit 3) above it");
    }
    request.options.max_delete = args.max_delete;
  }
  request.options.allow_empty = args.allow_empty;
  request.archive_dir = args.archive;
  if (!args.statsd.empty()) {
    check_statsd_target(args.statsd);
  }

  const Session session = make_session(globals);
  if (!args.job.empty()) {
    const auto& jobs = session.config.jobs;
    const auto job = std::find_if(jobs.begin(), jobs.end(), [&](const JobConfig& j) { return j.name == args.job; });
    if (job == jobs.end()) {
      std::vector<std::string_view> names;
      for (const auto& j : jobs) {
        names.push_back(j.name);
      }
      const std::string guess = closest_match(args.job, names);
      throw UsageError(fmt::format("unknown job '{}' in {}", args.job, session.config.source),
                       guess.empty() ? fmt::format("jobs: {}", fmt::join(names, ", "))
                                     : fmt::format("did you mean '{}'?", guess));
    }
    if (!job->enabled) {
      if (!args.force) {
        throw UsageError(fmt::format("job '{}' is disabled (enabled = false in {})", job->name, session.config.source),
                         "pass --force to run it anyway; a crontab line or timer still calling it is stale");
      }
      session.log.notice("job '{}' is disabled in the configuration; running it as asked (--force)", job->name);
    }
    if (args.allow_empty) {
      throw UsageError("--allow-empty cannot be used with --job: a scheduled run's permission to empty a table "
                       "belongs in the configuration",
                       fmt::format("set allow_empty = true in [jobs.{}] (or in the task's section), or run the task "
                                   "itself: housekeep run --task {} --allow-empty",
                                   job->name, job->task));
    }
    request.job = job->name;
    request.tasks = resolve_tasks(session.config, {job->task});
    if (!request.options.timeout) {
      request.options.timeout = job->timeout;
    }
  } else {
    request.tasks = resolve_tasks(session.config, args.tasks);
  }
  const auto store = session.open(args.dry_run ? AccessMode::read_only : AccessMode::read_write);
  const SystemClock clock;
  // SIGTERM or SIGINT stops the run after its current batch (a second one at once).
  StopFlag stop;
  const SystemWaiter signals(stop, false);
  request.stop = &stop;
  // A live progress line only where someone watches: a terminal, without --quiet (and
  // without -v, whose per-batch lines would tear it).
  TerminalProgress progress(stderr, clock);
  if (!globals.quiet && globals.verbose == 0 && globals.log_format == "text" && ::isatty(STDERR_FILENO) == 1) {
    request.progress = &progress;
  }
  // One report per run where one person reads both streams: when the table goes to the same
  // terminal as the log, the per-task lines repeat it, so they come with -v only. Cron mail,
  // the journal and a redirected stdout keep them.
  if (!globals.json && !globals.quiet && same_terminal(STDOUT_FILENO, STDERR_FILENO)) {
    request.summary_level = LogLevel::debug;
  }
  const RunReport report = run_tasks(*store, session.config, request, clock, session.log);
  Reporter reporter(ReportTargets{args.metrics_file, args.statsd}, store->describe(), session.log);
  reporter.finished(session.config, request.job, report);

  if (globals.json) {
    // Replaces bytes that are not UTF-8 (a command's output, a database's text) rather than fail.
    print_stdout(run_report_json(report).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
  } else if (!globals.quiet) {
    print_stdout(run_report_table(report));
  }
  const TaskResult* failure = report.first_failure();
  return failure == nullptr ? 0 : static_cast<int>(failure->code);
}

} // namespace

void register_run(CLI::App& app, const Globals& globals, Action& action)
{
  auto args = std::make_shared<RunArgs>();
  CLI::App* sub = app.add_subcommand("run", "Run tasks once, now, and print what they did");
  const Config defaults;
  std::vector<std::string> builtins;
  std::vector<std::string> kinds;
  for (const auto& task : defaults.tasks) {
    builtins.push_back(task.name);
  }
  for (const TaskKind* kind : task_kinds()) {
    kinds.push_back(kind->name);
  }
  sub->footer(fmt::format("Tasks always run in the order {} ('all' runs those).\n"
                          "A configuration adds tasks of the kinds {} (housekeep.toml(5)).\n",
                          fmt::join(defaults.all, ", "), fmt::join(kinds, ", ")) +
              "A failing task does not stop the next one; the exit status is that of the first failure.\n"
              "SIGTERM or SIGINT stops after the current batch (recorded as interrupted, exit 75).\n\n"
              "Examples:\n"
              "  housekeep run --task all --dry-run     # what would go, per table; writes nothing\n"
              "  housekeep run --task all --quiet       # for crontab: silent unless something fails\n"
              "  housekeep run --task stats --json | jq -e .ok");
  sub
    ->add_option("-t,--task", args->tasks,
                 fmt::format("Task to run: {}, a configured one, or all (repeatable)", fmt::join(builtins, ", ")))
    ->type_name("NAME");
  sub
    ->add_option("--job", args->job,
                 "Run a configured job's task now, recorded under the job's name (as crontab "
                 "lines and systemd units from scheduler-info do)")
    ->type_name("NAME");
  sub->add_flag("-n,--dry-run", args->dry_run, "Report what would be deleted, per table, and change nothing");
  sub
    ->add_option("--older-than", args->older_than,
                 "Override older_than of the aged and inactive tasks (conversations, users) (e.g. 30d, 12h)")
    ->type_name("DURATION");
  CLI::Option* batch_size =
    sub
      ->add_option("--batch-size", args->batch_size,
                   "Most rows of the walked table per write transaction (default: defaults.batch_size, 50000)")
      ->type_name("N");
  sub
    ->add_option("--batch-time", args->batch_time,
                 "Size batches (up to --batch-size rows) so that each write transaction holds "
                 "the lock about DURATION; 0 makes every batch --batch-size rows (default: "
                 "defaults.batch_time, else 50ms on SQLite, 100ms on PostgreSQL)")
    ->type_name("DURATION");
  sub
    ->add_option("--sleep", args->sleep,
                 "Pause between batches, for the application's writers (default: defaults.sleep, else 25ms on "
                 "SQLite, 0 on PostgreSQL)")
    ->type_name("DURATION");
  CLI::Option* wait = sub
                        ->add_option("--wait", args->wait,
                                     "If another run holds the purge lock, wait for it (up to DURATION, or without "
                                     "limit) instead of exiting 75")
                        ->expected(0, 1)
                        ->type_name("[=DURATION]");
  sub
    ->add_option("--timeout", args->timeout,
                 "Stop after the batch during which DURATION has passed (status timed-out, exit "
                 "75); the next run continues")
    ->type_name("DURATION");
  CLI::Option* max_delete = sub
                              ->add_option("--max-delete", args->max_delete,
                                           "Refuse (exit 3, nothing deleted) if the run would delete more rows than N, "
                                           "cascades included (default: defaults.max_delete, 0 = no limit)")
                              ->type_name("N");
  sub
    ->add_option("--archive", args->archive,
                 "Before each batch commits, append its rows (every column) to JSON Lines files "
                 "in DIR, flushed to disk, mode 0600; 'housekeep restore' puts them back")
    ->type_name("DIR");
  sub
    ->add_option("--metrics-file", args->metrics_file,
                 "After the run, replace PATH (atomically) with its metrics in Prometheus text "
                 "format, for node_exporter's textfile collector")
    ->type_name("PATH");
  sub->add_option("--statsd", args->statsd, "After the run, send its counts and timings as statsd packets over UDP")
    ->type_name("HOST:PORT");
  sub->add_flag("--allow-empty", args->allow_empty,
                "Allow a run that deletes every row of a non-empty table (refused by default; not "
                "with --job)");
  sub->add_flag("--force", args->force, "With --job: run the job even though it is disabled");
  sub->callback([&action, &globals, args, wait, batch_size, max_delete] {
    args->max_delete_given = max_delete->count() > 0;
    args->wait_given = wait->count() > 0;
    args->batch_size_given = batch_size->count() > 0;
    action = [&globals, args] { return run(globals, *args); };
  });
}

} // namespace housekeep::cli
