#include "commands.hpp"

#include "housekeep/archive.hpp"
#include "housekeep/clock.hpp"
#include "housekeep/error.hpp"
#include "housekeep/output.hpp"
#include "housekeep/run.hpp"

#include <fmt/format.h>

namespace housekeep::cli {

namespace {

struct RestoreArgs {
  std::vector<std::string> files;
  bool dry_run = false;
};

int restore(const Globals& globals, const RestoreArgs& args)
{
  const Session session = make_session(globals);
  // Rows go back exactly as they were, orphans included (the messages task deletes exactly
  // those), so this connection does not enforce foreign keys; parents still go first.
  const auto store = session.open(
    OpenOptions{.mode = args.dry_run ? AccessMode::read_only : AccessMode::read_write, .enforce_foreign_keys = false});
  std::unique_ptr<Lock> lock;
  if (!args.dry_run) {
    if (store->read_only()) {
      throw PermissionError(fmt::format("database '{}' is read-only; restore needs write access", store->describe()),
                            "check the file's permissions, or use --dry-run to see what would go back");
    }
    lock = acquire_purge_lock(*store, "restore", std::nullopt, nullptr, SystemClock{}, session.log);
  }
  const RestoreReport report = restore_archives(*store, session.config, args.files, args.dry_run, session.log);
  if (globals.json) {
    print_stdout(restore_json(report).dump(2) + "\n");
  } else if (!globals.quiet) {
    print_stdout(restore_table(report));
  }
  return 0;
}

} // namespace

void register_restore(CLI::App& app, const Globals& globals, Action& action)
{
  auto args = std::make_shared<RestoreArgs>();
  CLI::App* sub = app.add_subcommand("restore", "Put rows archived by 'run --archive' back into the database");
  sub->footer("Parents go back before children (by the configured cascades and the schema's foreign\n"
              "keys), whatever order the files are given in. A row whose key is already in its table\n"
              "is left alone and counted as already there, so restoring twice changes nothing.\n\n"
              "Example:\n"
              "  housekeep restore /var/backups/housekeep/*-20261125T020000Z.jsonl");
  sub->add_option("archives", args->files, "Archive files written by 'run --archive'")
    ->required()
    ->type_name("ARCHIVE...");
  sub->add_flag("-n,--dry-run", args->dry_run, "Count what would go back and change nothing");
  sub->callback([&action, &globals, args] { action = [&globals, args] { return restore(globals, *args); }; });
}

} // namespace housekeep::cli
