#include "housekeep/error.hpp"
#include "housekeep/store.hpp"

#include <catch2/catch.hpp>

using namespace housekeep;

TEST_CASE("database URLs: schemes / relative and absolute paths / redaction", "[store]")
{
  CHECK(parse_database_url("sqlite:///var/lib/app.db").path == "/var/lib/app.db");
  CHECK(parse_database_url("sqlite://data/app.db").path == "data/app.db");
  CHECK(parse_database_url("app.db").scheme == "sqlite");
  CHECK(parse_database_url("app.db").path == "app.db");
  CHECK(parse_database_url("sqlite:///x.db?mode=ro").params.at("mode") == "ro");
  CHECK(parse_database_url("postgresql://app:secret@db/app").redacted() ==
        "postgresql://app:****@db/app");
  CHECK(parse_database_url("postgresql://app@db/app").redacted() == "postgresql://app@db/app");
  CHECK_THROWS_AS(parse_database_url("mysql://db/app"), UsageError);
  CHECK_THROWS_AS(parse_database_url(""), UsageError);
  CHECK_THROWS_AS(parse_database_url("sqlite://"), UsageError);
  CHECK_THROWS_AS(open_store(parse_database_url("postgresql://a:b@localhost/x"), OpenOptions{}),
                  UsageError);
  try {
    open_store(parse_database_url("postgresql://a:b@localhost/x"), OpenOptions{});
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find("b@") == std::string::npos); // never print the password
  }
}

TEST_CASE("identifiers: only plain names / optionally schema-qualified", "[store]")
{
  for (const char* good : {"users", "_x", "auth_user", "public.users", "T1"}) {
    CHECK(is_safe_identifier(good));
  }
  for (const char* bad : {"", "1users", "users;", "a b", "a.b.c", "\"x\"", ".x", "x.", "ümlaut", "a-b"}) {
    CHECK_FALSE(is_safe_identifier(bad));
  }
}
