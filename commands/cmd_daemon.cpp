#include "commands.hpp"

#include "housekeep/daemon.hpp"
#include "housekeep/report.hpp"
#include "housekeep/settings.hpp"
#include "housekeep/system.hpp"

namespace housekeep::cli {

namespace {

struct DaemonArgs {
  bool once = false;
  std::string metrics_file;
  std::string statsd;
  std::string listen;
};

int daemon(const Globals& globals, const DaemonArgs& args)
{
  if (!args.statsd.empty()) {
    check_statsd_target(args.statsd);
  }
  const Session session = make_session(globals);
  DaemonOptions options;
  options.once = args.once;
  options.http = http_setup(session.config, args.listen);
  StopFlag stop;
  SystemWaiter waiter(stop, true);
  SystemdNotifier notifier;
  const SystemClock clock;
  DaemonEnv env{clock,
                waiter,
                notifier,
                session.log,
                stop,
                [&session] { return session.open(AccessMode::read_write); },
                [&globals] { return load_config(globals.config_path, process_env); }};
  Reporter reporter(ReportTargets{args.metrics_file, args.statsd}, session.url.redacted(), session.log);
  env.reporter = &reporter;
  return run_daemon(session.config, env, options);
}

} // namespace

void register_daemon(CLI::App& app, const Globals& globals, Action& action)
{
  auto args = std::make_shared<DaemonArgs>();
  CLI::App* sub = app.add_subcommand(
    "daemon", "Run the configured jobs on their schedules until stopped (SIGTERM/SIGINT; SIGHUP reloads)");
  sub->footer("The same jobs as 'scheduler-info' lists, each firing running what 'run --job NAME' runs.\n"
              "Any number of daemons may serve one database: each slot runs on one of them. A job never\n"
              "runs beside itself. Under systemd use Type=notify.\n"
              "Examples:\n"
              "  housekeep --config /etc/housekeep/housekeep.toml daemon\n"
              "  housekeep daemon --once     # run what is due or owed now, then exit\n"
              "  housekeep daemon --listen 127.0.0.1:8080   # and serve the status API");
  sub->add_flag("--once", args->once, "Run whatever is due or owed by catch-up now, then exit");
  sub
    ->add_option("--metrics-file", args->metrics_file,
                 "After each firing, replace PATH (atomically) with every job's latest metrics in "
                 "Prometheus text format")
    ->type_name("PATH");
  sub->add_option("--statsd", args->statsd, "After each firing, send its counts and timings as statsd packets")
    ->type_name("HOST:PORT");
  sub
    ->add_option("--listen", args->listen,
                 "Serve the status API (/healthz, /readyz, /api/v1/status, /api/v1/stats, /api/v1/history, "
                 "/metrics, a dashboard at /; with [http] token_file, POST /api/v1/jobs/NAME/run) on ADDR; "
                 "beyond loopback only with [http] token_file")
    ->type_name("ADDR");
  sub->callback([&action, &globals, args] { action = [&globals, args] { return daemon(globals, *args); }; });
}

} // namespace housekeep::cli
