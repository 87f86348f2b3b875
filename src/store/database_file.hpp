// A database that is one file (private to the store): what any file engine checks before
// opening it, how it notices the file was replaced, and where its locks live.
#pragma once

#include "housekeep/store.hpp"

#include <sys/stat.h>

#include <string>

namespace housekeep {

/// Throws the error of SPEC §3 when `path` is not an existing, readable file: NotFoundError,
/// PermissionError, or DataError for a directory.
void check_database_file(const std::string& path);

/// The file's identity (device and inode) when it was opened.
class FileIdentity {
public:
  explicit FileIdentity(std::string path);
  /// True when `path` no longer names the file it named (deleted, or deleted and created anew).
  bool replaced() const;

private:
  std::string m_path;
  struct stat m_identity {};
};

/// The lock file of `scope` beside the database file, whatever path named it: through a
/// symbolic link or a relative path, two runs on one database meet at one lock.
std::string lock_file_beside(const std::string& path, LockScope scope);

/// The file's name without directory and extension ("app" for /srv/app.db), for file names.
std::string database_file_name(const std::string& path);

} // namespace housekeep
