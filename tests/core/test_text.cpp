#include "housekeep/text.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <limits>

using namespace housekeep;

TEST_CASE("with_thousands groups digits by three", "[text]")
{
  CHECK(with_thousands(0) == "0");
  CHECK(with_thousands(7) == "7");
  CHECK(with_thousands(40) == "40");
  CHECK(with_thousands(999) == "999");
  CHECK(with_thousands(1000) == "1,000");
  CHECK(with_thousands(12340) == "12,340");
  CHECK(with_thousands(1234567) == "1,234,567");
  CHECK(with_thousands(-1234) == "-1,234");
  CHECK(with_thousands(std::numeric_limits<std::int64_t>::min()) == "-9,223,372,036,854,775,808");
}

TEST_CASE("closest_match suggests plausible typos only", "[text]")
{
  constexpr std::array<std::string_view, 4> names{"conversations", "messages", "users", "stats"};
  CHECK(closest_match("conversation", names) == "conversations");
  CHECK(closest_match("mesages", names) == "messages");
  CHECK(closest_match("usres", names) == "users");
  CHECK(closest_match("backup", names).empty());
}
