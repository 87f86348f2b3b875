// [tasks.NAME] kind = "files": regular files under one directory older than N, optionally
// matching a glob. Symbolic links are never followed, nor deleted: a link cannot lead the
// walk out of the directory, and what it points to is never touched. Directories stay,
// the configured one included.
#include "housekeep/duration.hpp"
#include "housekeep/error.hpp"
#include "housekeep/task.hpp"
#include "housekeep/task_kind.hpp"
#include "housekeep/text.hpp"

#include <fmt/format.h>

#include <fnmatch.h>

#include <filesystem>
#include <system_error>

namespace housekeep {

namespace {

void run_files(TaskContext& context, TaskResult& result)
{
  namespace fs = std::filesystem;
  const TaskConfig& t = *context.task;
  const struct {
    const std::string& name;
    const std::string& directory;
    const std::string& glob;
    Millis older_than;
  } c{t.name, t.text("directory"), t.text("glob"), t.duration("older_than")};
  std::error_code error;
  const auto status = fs::symlink_status(c.directory, error);
  if (error || !fs::exists(status)) {
    throw NotFoundError(fmt::format("{}: directory '{}' does not exist", c.name, c.directory),
                        "check tasks." + c.name + ".directory; nothing was deleted");
  }
  if (!fs::is_directory(status)) {
    throw DataError(fmt::format("{}: '{}' is not a directory (a symbolic link is not followed)", c.name, c.directory));
  }
  const auto cutoff =
    fs::file_time_type::clock::now() - std::chrono::duration_cast<fs::file_time_type::duration>(c.older_than);
  std::int64_t count = 0;
  std::int64_t bytes = 0;
  std::int64_t failed = 0;
  std::string first_failure;
  fs::recursive_directory_iterator it(c.directory, fs::directory_options::none, error);
  if (error) {
    throw PermissionError(fmt::format("{}: cannot read directory '{}': {}", c.name, c.directory, error.message()));
  }
  for (; it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (error) {
      ++failed;
      first_failure = error.message();
      error.clear();
      continue;
    }
    const fs::directory_entry& entry = *it;
    const auto entry_status = entry.symlink_status(error);
    if (error || !fs::is_regular_file(entry_status)) {
      error.clear();
      continue; // directories, symbolic links, sockets, devices: never deleted
    }
    if (!c.glob.empty() && ::fnmatch(c.glob.c_str(), entry.path().filename().c_str(), FNM_PERIOD) != 0) {
      continue;
    }
    const auto modified = entry.last_write_time(error);
    if (error || modified >= cutoff) {
      error.clear();
      continue;
    }
    const auto size = static_cast<std::int64_t>(entry.file_size(error));
    if (error) {
      error.clear();
      continue;
    }
    if (context.options.dry_run) {
      context.log.info("{}: would delete {} ({} bytes)", c.name, entry.path().string(), with_thousands(size));
    } else if (!fs::remove(entry.path(), error) || error) {
      ++failed;
      first_failure = fmt::format("{}: {}", entry.path().string(), error.message());
      error.clear();
      continue;
    } else {
      context.log.debug("{}: deleted {}", c.name, entry.path().string());
    }
    ++count;
    bytes += size;
  }
  result.stats = {{"files", count}, {"bytes", bytes}};
  if (failed > 0) {
    throw PermissionError(fmt::format("{}: {} files could not be deleted ({} deleted); first: {}", c.name,
                                      with_thousands(failed), with_thousands(count), first_failure),
                          "check the owner and permissions of the directory");
  }
}

} // namespace

const TaskKind& files_kind()
{
  static const TaskKind kind{"files",
                             "delete files older than older_than under a directory",
                             false,
                             &run_files,
                             {{"directory", KeyType::directory, std::string(), true},
                              {"glob", KeyType::text, std::string()},
                              {"older_than", KeyType::duration, Duration{}, true}}};
  return kind;
}

} // namespace housekeep
