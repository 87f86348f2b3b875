#include "store/database_file.hpp"

#include "housekeep/error.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <cerrno>
#include <filesystem>

namespace housekeep {

void check_database_file(const std::string& path)
{
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    if (errno == EACCES) {
      throw PermissionError(fmt::format("cannot open database '{}': permission denied", path));
    }
    throw NotFoundError(fmt::format("cannot open database '{}': file not found", path),
                        "check --db (or HOUSEKEEP_DATABASE_URL); 'housekeep demo' creates a sample database");
  }
  if (S_ISDIR(info.st_mode)) {
    throw DataError(fmt::format("cannot open database '{}': it is a directory", path));
  }
  if (::access(path.c_str(), R_OK) != 0) {
    throw PermissionError(fmt::format("cannot open database '{}': permission denied", path),
                          "the database file must be readable by this user");
  }
}

FileIdentity::FileIdentity(std::string path) : m_path(std::move(path))
{
  if (::stat(m_path.c_str(), &m_identity) != 0) {
    m_identity = {};
  }
}

bool FileIdentity::replaced() const
{
  struct stat now {};
  return ::stat(m_path.c_str(), &now) != 0 || now.st_dev != m_identity.st_dev || now.st_ino != m_identity.st_ino;
}

std::string lock_file_beside(const std::string& path, LockScope scope)
{
  std::error_code error;
  std::string file = std::filesystem::canonical(path, error).string();
  if (error) {
    file = path;
  }
  switch (scope) {
  case LockScope::purge: break;
  }
  return file + "-housekeep.lock";
}

std::string database_file_name(const std::string& path)
{
  std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  if (const auto dot = base.rfind('.'); dot != std::string::npos && dot > 0) {
    base.erase(dot);
  }
  return base.empty() ? "database" : base;
}

} // namespace housekeep
