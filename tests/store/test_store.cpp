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
  CHECK(parse_database_url("postgresql://app:secret@db/app").redacted() == "postgresql://app:****@db/app");
  CHECK(parse_database_url("postgresql://app@db/app").redacted() == "postgresql://app@db/app");
  CHECK_THROWS_AS(parse_database_url("mysql://db/app"), UsageError);
  CHECK_THROWS_AS(parse_database_url(""), UsageError);
  CHECK_THROWS_AS(parse_database_url("sqlite://"), UsageError);
  // No server on port 1: unavailable (69), and the message never holds the password.
  CHECK_THROWS_AS(open_store(parse_database_url("postgresql://a:b@127.0.0.1:1/x"), OpenOptions{}), UnavailableError);
  try {
    open_store(parse_database_url("postgresql://a:b@127.0.0.1:1/x"), OpenOptions{});
  } catch (const UnavailableError& e) {
    CHECK(std::string(e.what()).find("b@") == std::string::npos); // never print the password
  }
}

TEST_CASE("passwords are masked whatever characters they hold, and in any password= parameter", "[store]")
{
  struct Row {
    const char* url;
    const char* masked;
  };
  const Row rows[] = {
    {"postgresql://app:secret@db/app", "postgresql://app:****@db/app"},
    {"postgresql://app:pa/ss@db/app", "postgresql://app:****@db/app"},
    {"postgresql://app:p@ss@db/app", "postgresql://app:****@db/app"},
    {"postgresql://app:p?ss@db/app", "postgresql://app:****@db/app"},
    {"postgresql://app:p:s@db:5432/app?sslmode=require", "postgresql://app:****@db:5432/app?sslmode=require"},
    {"postgresql://db/app?user=app&password=s3cr/et", "postgresql://db/app?user=app&password=****"},
    {"postgresql://db/app?password=x&sslmode=require", "postgresql://db/app?password=****&sslmode=require"},
    {"postgresql://db/app?user=app@corp&sslpassword=k", "postgresql://db/app?user=app@corp&sslpassword=****"},
    {"postgres://u:pw@h/d?PASSWORD=y", "postgres://u:****@h/d?PASSWORD=****"},
    {"sqlite:///var/app.db?password=x", "sqlite:///var/app.db?password=****"},
    {"postgresql://app@db/app", "postgresql://app@db/app"},
    {"/var/lib/app.db", "/var/lib/app.db"},
  };
  for (const auto& row : rows) {
    INFO(row.url);
    CHECK(mask_secrets(row.url) == row.masked);
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
