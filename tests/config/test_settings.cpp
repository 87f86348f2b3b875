#include "housekeep/error.hpp"
#include "housekeep/settings.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace housekeep;

namespace {

EnvLookup fake_env(std::map<std::string, std::string> values)
{
  return [values = std::move(values)](const char* name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) {
      return std::nullopt;
    }
    return it->second;
  };
}

} // namespace

TEST_CASE("database URL: flag > HOUSEKEEP_DATABASE_URL > DATABASE_URL > config > default", "[settings]")
{
  Config config;
  const auto none = fake_env({});
  CHECK(resolve_database_url("", none, config) == "./housekeep.db");
  config.database.url = "sqlite:///from/config.db";
  CHECK(resolve_database_url("", none, config) == "sqlite:///from/config.db");
  const auto both = fake_env({{"DATABASE_URL", "b.db"}, {"HOUSEKEEP_DATABASE_URL", "a.db"}});
  CHECK(resolve_database_url("", fake_env({{"DATABASE_URL", "b.db"}}), config) == "b.db");
  CHECK(resolve_database_url("", both, config) == "a.db");
  CHECK(resolve_database_url("flag.db", both, config) == "flag.db");
}

TEST_CASE("config file: flag > HOUSEKEEP_CONFIG and an explicit file must exist", "[settings]")
{
  CHECK(find_config_file("given.toml", fake_env({{"HOUSEKEEP_CONFIG", "env.toml"}})) == "given.toml");
  CHECK(find_config_file("", fake_env({{"HOUSEKEEP_CONFIG", "env.toml"}})) == "env.toml");
  CHECK_THROWS_AS(load_config("/nonexistent/housekeep.toml", fake_env({})), NotFoundError);
  CHECK_THROWS_AS(load_config("", fake_env({{"HOUSEKEEP_CONFIG", "/nonexistent/x.toml"}})), NotFoundError);
}
