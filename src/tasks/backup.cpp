// [tasks.NAME] kind = "backup": a consistent online copy of the database, verified, then
// retention. The copy is written under a temporary name, verified by the engine's own means
// (SQLite's integrity check, pg_restore --list), flushed to disk and only then renamed to
// DIR/<db>-<UTC time>.db (.dump for PostgreSQL; mode 0600), so a file with the final name is
// always a whole, good backup. Retention only ever considers files
// named exactly like that, and never deletes the newest keep_last ones.
#include "housekeep/duration.hpp"
#include "housekeep/error.hpp"
#include "housekeep/files.hpp"
#include "housekeep/task.hpp"
#include "housekeep/task_kind.hpp"
#include "housekeep/text.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <regex>

namespace housekeep {

namespace {

void sync_or_throw(const std::string& path)
{
  if (const int err = sync_to_disk(path); err != 0) {
    throw IoError(fmt::format("cannot flush '{}' to disk: {}", path, std::strerror(err)));
  }
}

void run_backup(TaskContext& context, TaskResult& result)
{
  namespace fs = std::filesystem;
  const TaskConfig& t = *context.task;
  const struct {
    const std::string& name;
    const std::string& directory;
    std::int64_t keep_days;
    std::int64_t keep_last;
    const std::string& tool;
  } c{t.name, t.text("directory"), t.integer("keep_days"), t.integer("keep_last"), t.text("tool")};
  struct stat st {};
  if (::stat(c.directory.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw CantCreateError(fmt::format("{}: backup directory '{}' does not exist", c.name, c.directory),
                          "create it (mode 0700: backups hold every row); nothing was written");
  }
  if (::access(c.directory.c_str(), W_OK | X_OK) != 0) {
    throw CantCreateError(fmt::format("{}: backup directory '{}' is not writable", c.name, c.directory),
                          "check its owner and permissions; nothing was written");
  }
  Maintenance& engine = context.store.require_maintenance("an online backup");
  const std::string base = context.store.name();
  const std::string stamp = format_utc_stamp(context.now);
  const std::string_view extension = engine.backup_extension();
  const std::string final_path = fmt::format("{}/{}-{}{}", c.directory, base, stamp, extension);
  const std::string partial = fmt::format("{}/.{}-{}{}.partial", c.directory, base, stamp, extension);

  std::int64_t bytes = 0;
  if (context.options.dry_run) {
    context.log.info("{}: would write {}", c.name, final_path);
  } else {
    if (fs::exists(final_path)) {
      throw CantCreateError(fmt::format("{}: backup '{}' already exists", c.name, final_path),
                            "one backup per second at most; try again");
    }
    const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
      const int err = errno;
      throw CantCreateError(fmt::format("{}: cannot create '{}': {}", c.name, partial, std::strerror(err)));
    }
    ::fchmod(fd, 0600);
    ::close(fd);
    const auto started = std::chrono::steady_clock::now();
    std::string verified;
    try {
      engine.backup_to(partial, c.tool);
      try {
        verified = engine.verify_backup(partial, c.tool);
      } catch (const Error& e) {
        throw DataError(fmt::format("{}: {}", c.name, e.what()), e.hint());
      }
      sync_or_throw(partial);
      if (::rename(partial.c_str(), final_path.c_str()) != 0) {
        const int err = errno;
        throw IoError(fmt::format("{}: cannot rename the backup to '{}': {}", c.name, final_path, std::strerror(err)));
      }
      sync_or_throw(c.directory);
    } catch (...) {
      ::unlink(partial.c_str());
      throw;
    }
    bytes = static_cast<std::int64_t>(fs::file_size(final_path));
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    context.log.info("{}: wrote {} ({} bytes) in {}, {}", c.name, final_path, with_thousands(bytes),
                     humanize_duration(took), verified);
  }

  // Retention: only files named like this task's backups; newest first.
  const auto escaped = [](std::string_view text) {
    return std::regex_replace(std::string(text), std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)");
  };
  const std::regex own(fmt::format("^{}-([0-9]{{8}}T[0-9]{{6}}Z){}$", escaped(base), escaped(extension)));
  std::vector<std::pair<std::string, std::string>> backups; // stamp, path
  for (const auto& entry : fs::directory_iterator(c.directory)) {
    std::smatch match;
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && !entry.is_symlink() && std::regex_match(name, match, own)) {
      backups.emplace_back(match[1].str(), entry.path().string());
    }
  }
  std::sort(backups.begin(), backups.end(), std::greater<>());
  const TimePoint cutoff = context.now - std::chrono::hours(24) * c.keep_days;
  std::int64_t kept = 0;
  std::int64_t removed = 0;
  for (std::size_t i = 0; i < backups.size(); ++i) {
    const auto& [when, path] = backups[i];
    const bool protected_ = static_cast<std::int64_t>(i) < c.keep_last || path == final_path;
    if (protected_ || parse_utc_stamp(when).value_or(context.now) >= cutoff) {
      ++kept;
      continue;
    }
    if (context.options.dry_run) {
      context.log.info("{}: would delete old backup {}", c.name, path);
    } else if (::unlink(path.c_str()) != 0) {
      const int err = errno;
      throw PermissionError(fmt::format("{}: cannot delete old backup '{}': {}", c.name, path, std::strerror(err)));
    } else {
      context.log.info("{}: deleted old backup {}", c.name, path);
    }
    ++removed;
  }
  result.stats = {{"bytes", bytes}, {"backups_kept", kept}, {"backups_deleted", removed}};
  result.output = context.options.dry_run ? std::string() : final_path;
}

} // namespace

const TaskKind& backup_kind()
{
  static const TaskKind kind{"backup",
                             "copy the database online into a directory, verified, and prune old copies",
                             false,
                             &run_backup,
                             {{"directory", KeyType::directory, std::string(), true},
                              {"keep_days", KeyType::integer, std::int64_t{30}, false, 1, 100000},
                              {"keep_last", KeyType::integer, std::int64_t{7}, false, 1, 100000},
                              {"tool", KeyType::text, std::string(), false}}};
  return kind;
}

} // namespace housekeep
