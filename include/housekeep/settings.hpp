// Where the configuration and the database come from: flag > environment > config file >
// built-in default (SPEC §2). The environment is passed in, so this is testable.
#pragma once

#include "housekeep/config.hpp"

#include <functional>
#include <optional>
#include <string>

namespace housekeep {

/// Reads an environment variable; nothing when unset or empty.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;

/// The process environment.
std::optional<std::string> process_env(const char* name);

/// The configuration file to read: `flag`, else $HOUSEKEEP_CONFIG (both must exist), else
/// ./housekeep.toml, else /etc/housekeep/housekeep.toml if present; nothing: built-in defaults.
std::optional<std::string> find_config_file(const std::string& flag, const EnvLookup& env);

/// Finds and loads the configuration (built-in defaults when there is no file).
Config load_config(const std::string& flag, const EnvLookup& env);

/// The database URL: `flag`, $HOUSEKEEP_DATABASE_URL, $DATABASE_URL, the config file's
/// database.url, then "./housekeep.db".
std::string resolve_database_url(const std::string& flag, const EnvLookup& env, const Config& config);

} // namespace housekeep
