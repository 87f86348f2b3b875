#include "housekeep/settings.hpp"

#include <sys/stat.h>

#include <cstdlib>

namespace housekeep {

namespace {

bool exists(const std::string& path)
{
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

} // namespace

std::optional<std::string> process_env(const char* name)
{
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    return std::nullopt;
  }
  return std::string(value);
}

std::optional<std::string> find_config_file(const std::string& flag, const EnvLookup& env)
{
  // An explicit choice that does not exist is an error (load_config_file reports it), never
  // a silent fall back to defaults.
  if (!flag.empty()) {
    return flag;
  }
  if (auto path = env("HOUSEKEEP_CONFIG")) {
    return path;
  }
  for (const char* candidate : {"./housekeep.toml", "/etc/housekeep/housekeep.toml"}) {
    if (exists(candidate)) {
      return std::string(candidate);
    }
  }
  return std::nullopt;
}

Config load_config(const std::string& flag, const EnvLookup& env)
{
  if (auto path = find_config_file(flag, env)) {
    return load_config_file(*path);
  }
  return Config{};
}

std::string resolve_database_url(const std::string& flag, const EnvLookup& env, const Config& config)
{
  if (!flag.empty()) {
    return flag;
  }
  for (const char* name : {"HOUSEKEEP_DATABASE_URL", "DATABASE_URL"}) {
    if (auto url = env(name)) {
      return *url;
    }
  }
  if (!config.database.url.empty()) {
    return config.database.url;
  }
  return "./housekeep.db";
}

} // namespace housekeep
